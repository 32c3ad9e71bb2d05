package compute

import (
	"context"
	"encoding/base64"

	"kumo/internal/compute/configdrive"
	"kumo/internal/compute/virt"
)

// specOf is what the driver needs of an instance.
func specOf(in *Instance) virt.InstanceSpec {
	return virt.InstanceSpec{UUID: in.UUID, Name: in.instanceName(), VCPUs: int(in.Flavor.VCPUs),
		MemoryMB: int(in.Flavor.MemoryMB), RootGB: int(in.Flavor.RootGB)}
}

// configDriveFunc builds the instance's config drive at build time (so it
// has the metadata as it is then), or nil when the instance has none.
func (s *Service) configDriveFunc(in *Instance, p *buildPlan) func(ctx context.Context) ([]byte, error) {
	if in.ConfigDrive == "" {
		return nil
	}
	adminPass := ""
	keyType := "ssh"
	if p != nil {
		adminPass = p.adminPass
		if p.keyType != "" {
			keyType = p.keyType
		}
	}
	uuid := in.UUID
	return func(ctx context.Context) ([]byte, error) {
		cur, err := s.instances().get(ctx, uuid, false)
		if err != nil {
			return nil, err
		}
		meta, err := s.instances().metadata(ctx, uuid)
		if err != nil {
			return nil, err
		}
		md := configdrive.Metadata{UUID: cur.UUID, Name: cur.Name, Hostname: cur.Hostname,
			AvailabilityZone: cur.AZ, ProjectID: cur.ProjectID, LaunchIndex: cur.LaunchIndex, Meta: meta,
			AdminPass: adminPass, ReservationID: cur.ReservationID, InstanceType: cur.Flavor.Name,
			SecurityGroups: cur.SecurityGroups, Now: s.now()}
		if cur.KeyName != nil && cur.KeyData != nil {
			md.PublicKeys = []configdrive.Key{{Name: *cur.KeyName, Type: keyType, Data: *cur.KeyData}}
		}
		if cur.UserData != nil {
			if md.UserData, err = base64.StdEncoding.DecodeString(*cur.UserData); err != nil {
				return nil, err
			}
		}
		return configdrive.Build(md)
	}
}
