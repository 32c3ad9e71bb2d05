package simulated

import (
	"encoding/binary"
	"fmt"
	"io"
)

// maxQcow2L1Bytes is QEMU's QCOW_MAX_L1_SIZE.
const maxQcow2L1Bytes = 32 << 20

// writeEmptyQcow2 writes a valid qcow2 (version 2) image of the given
// virtual size with no data clusters, the layout `qemu-img create -f
// qcow2` makes: header, refcount table, one refcount block, L1 table.
func writeEmptyQcow2(w io.Writer, size int64) error {
	const clusterBits = 16
	const cluster = 1 << clusterBits
	// One L1 entry maps an L2 table of cluster/8 entries of one cluster.
	perL1 := int64(cluster) * (cluster / 8)
	// QEMU refuses an L1 table above 32 MiB (QCOW_MAX_L1_SIZE), i.e. 2 PiB
	// with 64 KiB clusters; past it the header's l1_size and our single
	// refcount block would be wrong, and the image would be built in memory.
	if size < 0 || size > maxQcow2L1Bytes/8*perL1 {
		return fmt.Errorf("simulated: a qcow2 image of %d bytes is beyond what QEMU supports", size)
	}
	l1Size := (size + perL1 - 1) / perL1
	l1Clusters := (l1Size*8 + cluster - 1) / cluster
	if l1Clusters == 0 {
		l1Clusters = 1
	}
	nClusters := 3 + l1Clusters

	img := make([]byte, nClusters*cluster)
	be := binary.BigEndian
	copy(img[0:4], "QFI\xfb")
	be.PutUint32(img[4:], 2) // version
	be.PutUint32(img[20:], clusterBits)
	be.PutUint64(img[24:], uint64(size))
	be.PutUint32(img[36:], uint32(l1Size))
	be.PutUint64(img[40:], 3*cluster) // L1 table
	be.PutUint64(img[48:], 1*cluster) // refcount table
	be.PutUint32(img[56:], 1)         // refcount table clusters
	// The refcount table's one entry points at the refcount block, whose
	// 16-bit entries count every cluster of the file once.
	be.PutUint64(img[cluster:], 2*cluster)
	for i := int64(0); i < nClusters; i++ {
		be.PutUint16(img[2*cluster+2*i:], 1)
	}
	_, err := w.Write(img)
	return err
}
