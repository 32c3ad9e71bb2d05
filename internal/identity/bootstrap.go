package identity

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// BootstrapOptions says what `kumo up` (and `kumo admin bootstrap`) ensures
// exists, as keystone-manage bootstrap does.
type BootstrapOptions struct {
	AdminUser      string // default "admin"
	AdminPassword  string // required
	AdminProject   string // default "admin"
	ServiceProject string // default "service"
	Region         string // default "RegionOne"
	// Endpoints lists the services kumo runs and their URLs; the catalog is
	// reconciled to exactly these URLs for those service types.
	Endpoints []CatalogEntry
}

// CatalogEntry is one service of kumo's own catalog.
type CatalogEntry struct {
	Type, Name, Description          string
	PublicURL, InternalURL, AdminURL string
	// DefaultLimits are unified limits registered (in the bootstrap
	// region) when the service first enters the catalog: a service that
	// treats a missing limit as 0, as Nova does, works at once; an
	// operator's later changes or deletions are kept.
	DefaultLimits map[string]int64
}

// Bootstrap creates (or repairs) the default domain, the admin and service
// projects, the roles admin > member > reader, the admin user with the admin
// role on its project and on the system, the region and the catalog. It is
// idempotent: a second run changes nothing but the admin password (when it
// differs) and endpoint URLs (when the ports moved).
func (s *Service) Bootstrap(ctx context.Context, o BootstrapOptions) error {
	if o.AdminPassword == "" {
		return errors.New("bootstrap: an admin password is required")
	}
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&o.AdminUser, "admin")
	def(&o.AdminProject, "admin")
	def(&o.ServiceProject, "service")
	def(&o.Region, "RegionOne")
	defer s.invalidate()

	if _, err := s.store.GetProject(ctx, DefaultDomainID); errors.Is(err, errNotFound) {
		d := &Project{ID: DefaultDomainID, Name: "Default", Description: "The default domain", Enabled: true, IsDomain: true}
		if err := s.store.CreateProject(ctx, d); err != nil {
			return fmt.Errorf("bootstrap: default domain: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	roleIDs := map[string]string{}
	for _, name := range []string{"admin", "member", "reader"} {
		r, err := s.store.GetRoleByName(ctx, "", name)
		if errors.Is(err, errNotFound) {
			r = &Role{ID: newID(), Name: name}
			err = s.store.CreateRole(ctx, r)
		}
		if err != nil {
			return fmt.Errorf("bootstrap: role %s: %w", name, err)
		}
		roleIDs[name] = r.ID
	}
	rules, err := s.store.ImpliedRoleRules(ctx)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	for _, pair := range [][2]string{{"admin", "member"}, {"member", "reader"}} {
		prior, implied := roleIDs[pair[0]], roleIDs[pair[1]]
		if !slices.Contains(rules[prior], implied) {
			if err := s.store.AddImpliedRole(ctx, prior, implied); err != nil {
				return fmt.Errorf("bootstrap: implied role: %w", err)
			}
		}
	}
	projectIDs := map[string]string{}
	for _, name := range []string{o.AdminProject, o.ServiceProject} {
		p, err := s.store.GetProjectByName(ctx, DefaultDomainID, name)
		if errors.Is(err, errNotFound) {
			p = &Project{ID: newID(), Name: name, DomainID: DefaultDomainID, ParentID: DefaultDomainID, Enabled: true,
				Description: "Bootstrap project for initializing the cloud."}
			err = s.store.CreateProject(ctx, p)
		}
		if err != nil {
			return fmt.Errorf("bootstrap: project %s: %w", name, err)
		}
		projectIDs[name] = p.ID
	}
	if err := s.bootstrapAdmin(ctx, o, roleIDs["admin"], projectIDs[o.AdminProject]); err != nil {
		return err
	}
	if _, err := s.store.GetRegion(ctx, o.Region); errors.Is(err, errNotFound) {
		if err := s.store.CreateRegion(ctx, &Region{ID: o.Region}); err != nil {
			return fmt.Errorf("bootstrap: region: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	for _, e := range o.Endpoints {
		if err := s.reconcileCatalogEntry(ctx, o.Region, e); err != nil {
			return fmt.Errorf("bootstrap: catalog %s: %w", e.Type, err)
		}
	}
	return nil
}

func (s *Service) bootstrapAdmin(ctx context.Context, o BootstrapOptions, adminRole, adminProject string) error {
	u, err := s.store.GetUserByName(ctx, DefaultDomainID, o.AdminUser)
	switch {
	case errors.Is(err, errNotFound):
		hash, err := s.hashPassword(o.AdminPassword)
		if err != nil {
			return err
		}
		u = &User{ID: newID(), DomainID: DefaultDomainID, Name: o.AdminUser, Enabled: true, CreatedAt: time.Now().UTC(),
			Options: map[string]any{}, Extra: map[string]any{}}
		if err := s.store.CreateUser(ctx, u, &PasswordRecord{Hash: hash, CreatedAt: time.Now().UTC()}); err != nil {
			return fmt.Errorf("bootstrap: admin user: %w", err)
		}
	case err != nil:
		return fmt.Errorf("bootstrap: admin user: %w", err)
	default:
		pws, err := s.store.Passwords(ctx, u.ID)
		if err != nil {
			return fmt.Errorf("bootstrap: admin user: %w", err)
		}
		if len(pws) == 0 || bcrypt.CompareHashAndPassword([]byte(pws[0].Hash), truncatePassword(o.AdminPassword)) != nil {
			hash, err := s.hashPassword(o.AdminPassword)
			if err != nil {
				return err
			}
			u.Enabled = true
			if err := s.store.UpdateUser(ctx, u, &PasswordRecord{Hash: hash, CreatedAt: time.Now().UTC()}, 1); err != nil {
				return fmt.Errorf("bootstrap: admin password: %w", err)
			}
		}
	}
	for _, a := range []Assignment{
		{Type: UserProject, ActorID: u.ID, TargetID: adminProject, RoleID: adminRole},
		{Type: UserSystem, ActorID: u.ID, TargetID: SystemTarget, RoleID: adminRole},
	} {
		if err := s.store.AddAssignment(ctx, a); err != nil {
			return fmt.Errorf("bootstrap: admin role: %w", err)
		}
	}
	return nil
}

// hashPassword hashes with bcrypt at the configured cost.
func (s *Service) hashPassword(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword(truncatePassword(pw), s.cfg.BcryptCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// reconcileCatalogEntry makes the catalog hold exactly one service of e's
// type with e's three endpoint URLs in region.
func (s *Service) reconcileCatalogEntry(ctx context.Context, region string, e CatalogEntry) error {
	svcs, err := s.store.ListServices(ctx, e.Type)
	if err != nil {
		return err
	}
	var sv *CatalogService
	if len(svcs) > 0 {
		sv = svcs[0]
	} else {
		sv = &CatalogService{ID: newID(), Type: e.Type, Enabled: true, Extra: map[string]any{"name": e.Name, "description": e.Description}}
		if err := s.store.CreateService(ctx, sv); err != nil {
			return err
		}
		var rls []*RegisteredLimit
		for _, name := range slices.Sorted(maps.Keys(e.DefaultLimits)) {
			rls = append(rls, &RegisteredLimit{ID: newID(), ServiceID: sv.ID, RegionID: region, ResourceName: name,
				DefaultLimit: e.DefaultLimits[name]})
		}
		if err := s.store.CreateRegisteredLimits(ctx, rls); err != nil {
			return err
		}
	}
	eps, err := s.store.ListEndpoints(ctx, EndpointFilter{ServiceID: sv.ID, RegionID: region})
	if err != nil {
		return err
	}
	for iface, url := range map[string]string{"public": e.PublicURL, "internal": e.InternalURL, "admin": e.AdminURL} {
		var found *Endpoint
		for _, ep := range eps {
			if ep.Interface == iface {
				found = ep
			}
		}
		switch {
		case found == nil:
			err = s.store.CreateEndpoint(ctx, &Endpoint{ID: newID(), ServiceID: sv.ID, Interface: iface, URL: url, RegionID: region, Enabled: true})
		case found.URL != url:
			found.URL = url
			err = s.store.UpdateEndpoint(ctx, found)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
