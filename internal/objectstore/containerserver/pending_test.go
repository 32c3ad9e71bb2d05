package containerserver

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"
)

func pendingFile(s *Store, ref ContainerRef) string {
	return s.containerPath(ref.Device, ref.Partition, ref.Account, ref.Container) + pendingSuffix
}

// rowsInDB counts ref's live rows without merging what is pending.
func rowsInDB(t *testing.T, s *Store, ref ContainerRef) int {
	t.Helper()
	d, release, err := s.acquire(s.containerPath(ref.Device, ref.Partition, ref.Account, ref.Container), false, KindContainer, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	var n int
	if err := d.R.QueryRow(`SELECT COUNT(*) FROM object WHERE deleted = 0`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func row(name string) ObjectRecord {
	return ObjectRecord{Name: name, CreatedAt: "0000000005.00000", Size: 2, ContentType: "a/b", ETag: "e"}
}

// Every acknowledged row is seen by the next reader, without waiting for
// the background merge, and the pending file is then empty.
func TestPendingRowsAreMergedBeforeReads(t *testing.T) {
	s, ref := benchStore(t)
	s.mergeDelay = time.Hour
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				errs <- s.PutObjectRecord(ctx, ref, row("w"+itoa(w)+"-"+itoa(i)))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := rowsInDB(t, s, ref); n != 0 {
		t.Fatalf("%d rows merged before anything read or waited", n)
	}
	info, err := s.ContainerInfo(ctx, ref)
	if err != nil || info.ObjectCount != 400 || info.BytesUsed != 800 {
		t.Fatalf("after 400 concurrent rows: %+v %v", info, err)
	}
	if st, err := os.Stat(pendingFile(s, ref)); err != nil || st.Size() != 0 {
		t.Fatalf("pending file after the merge: %v %v", st, err)
	}
	_, list, err := s.ListObjects(ctx, ref, ListParams{Limit: 1000})
	if err != nil || len(list) != 400 {
		t.Fatalf("listing: %d rows, %v", len(list), err)
	}
}

// Rows nobody reads reach the database by themselves.
func TestPendingRowsMergeInTheBackground(t *testing.T) {
	s, ref := benchStore(t)
	if err := s.PutObjectRecord(context.Background(), ref, row("a")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); rowsInDB(t, s, ref) != 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the row was not merged in the background")
		}
	}
}

// A crash leaves acknowledged rows in the pending file: the next process
// merges them when it opens the database. A line torn by a power loss is
// dropped.
func TestPendingRowsSurviveACrash(t *testing.T) {
	s, ref := benchStore(t)
	s.mergeDelay = time.Hour
	ctx := context.Background()
	for _, name := range []string{"a", "b", "c"} {
		if err := s.PutObjectRecord(ctx, ref, row(name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutObjectRecord(ctx, ref, ObjectRecord{Name: "b", CreatedAt: "0000000006.00000", Deleted: true}); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(pendingFile(s, ref), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"name":"torn","created_at":"00000`)
	f.Close()
	// The crash: s is never closed; another store opens the same files.
	after := NewStore(s.root, testHash, 16)
	defer after.Close()
	_, list, err := after.ListObjects(ctx, ref, ListParams{Limit: 10})
	if err != nil || len(list) != 2 || list[0].Name != "a" || list[1].Name != "c" {
		t.Fatalf("after the crash: %+v %v", list, err)
	}
}

// Close merges what is pending and leaves the pending file empty.
func TestCloseMergesPendingRows(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(root+"/sda", 0o755); err != nil {
		t.Fatal(err)
	}
	s := NewStore(root, testHash, 16)
	s.mergeDelay = time.Hour
	ctx := context.Background()
	ref := ContainerRef{Device: "sda", Account: "AUTH_bench", Container: "c"}
	if _, err := s.PutContainer(ctx, ref, "0000000001.00000", 0, nil, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.PutObjectRecord(ctx, ref, row("a")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	after := NewStore(root, testHash, 16)
	defer after.Close()
	if st, err := os.Stat(pendingFile(after, ref)); err != nil || st.Size() != 0 {
		t.Fatalf("pending file after Close: %v %v", st, err)
	}
	if n := rowsInDB(t, after, ref); n != 1 {
		t.Fatalf("%d rows in the database after Close, want 1", n)
	}
}

// A deleted container refuses rows; one with pending rows is not empty.
func TestPendingRowsAndContainerDeletes(t *testing.T) {
	s, ref := benchStore(t)
	s.mergeDelay = time.Hour
	ctx := context.Background()
	gone := ContainerRef{Device: "sda", Account: "AUTH_bench", Container: "gone"}
	if _, err := s.PutContainer(ctx, gone, "0000000001.00000", 0, nil, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteContainer(ctx, gone, "0000000002.00000"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutObjectRecord(ctx, gone, row("x")); err != ErrNotFound {
		t.Fatalf("row into a deleted container: %v", err)
	}
	if err := s.PutObjectRecord(ctx, ref, row("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteContainer(ctx, ref, "0000000009.00000"); err != ErrConflict {
		t.Fatalf("delete of a container with a pending row: %v", err)
	}
	// Its deletion is seen by the next row, though the container was
	// found live before.
	if err := s.PutObjectRecord(ctx, ref, ObjectRecord{Name: "x", CreatedAt: "0000000006.00000", Deleted: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteContainer(ctx, ref, "0000000009.00000"); err != nil {
		t.Fatalf("delete of an emptied container: %v", err)
	}
	if err := s.PutObjectRecord(ctx, ref, row("y")); err != ErrNotFound {
		t.Fatalf("row into a container deleted after a row: %v", err)
	}
}
