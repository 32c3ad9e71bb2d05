package identity

import "time"

// DefaultDomainID is the id of the domain created at bootstrap, as Keystone's.
const DefaultDomainID = "default"

// Project is a Keystone project; a domain is a Project with IsDomain set and
// DomainID empty (Keystone stores domains the same way, so ids never clash).
type Project struct {
	ID          string
	Name        string
	DomainID    string
	ParentID    string // "" for a top-level project (its parent is the domain)
	IsDomain    bool
	Enabled     bool
	Description string
	Tags        []string
	Extra       map[string]any
	Options     map[string]any
}

// User is a Keystone user of the SQL identity backend.
type User struct {
	ID               string
	DomainID         string
	Name             string
	Enabled          bool
	DefaultProjectID string
	Extra            map[string]any
	Options          map[string]any
	CreatedAt        time.Time
	LastActiveAt     time.Time
	FailedAuthCount  int
	FailedAuthAt     time.Time
	// PasswordExpiresAt is that of the current password; zero means never.
	PasswordExpiresAt time.Time
}

// Group is a named set of users in one domain.
type Group struct {
	ID          string
	DomainID    string
	Name        string
	Description string
	Extra       map[string]any
}

// Role is a global role (DomainID "") or a domain-specific one.
type Role struct {
	ID          string
	Name        string
	DomainID    string
	Description string
	Options     map[string]any
	Extra       map[string]any
}

// Assignment types, as Keystone names them.
const (
	UserProject  = "UserProject"
	GroupProject = "GroupProject"
	UserDomain   = "UserDomain"
	GroupDomain  = "GroupDomain"
	UserSystem   = "UserSystem"
	GroupSystem  = "GroupSystem"
)

// SystemTarget is the target id of system role assignments.
const SystemTarget = "all"

// Assignment grants a role to a user or group on a project, domain or the
// system. Inherited assignments on a domain or project apply to the projects
// below it (OS-INHERIT), not to the target itself.
type Assignment struct {
	Type      string
	ActorID   string
	TargetID  string
	RoleID    string
	Inherited bool
}

// Region, Service and Endpoint make up the catalog.
type Region struct {
	ID             string
	Description    string
	ParentRegionID string
	Extra          map[string]any
}

// CatalogService is a service of the catalog (Service is the identity
// service itself).
type CatalogService struct {
	ID      string
	Type    string
	Enabled bool
	Extra   map[string]any // name, description and any other attribute
}

type Endpoint struct {
	ID        string
	ServiceID string
	Interface string // public, internal, admin
	URL       string
	RegionID  string
	Enabled   bool
	Extra     map[string]any
}

// Scope is what a token is scoped to; at most one field is set.
type Scope struct {
	ProjectID string
	DomainID  string
	System    string // "all"
}

// Trust is an OS-TRUST delegation of roles on a project from the trustor to
// the trustee.
type Trust struct {
	ID                 string
	TrustorUserID      string
	TrusteeUserID      string
	ProjectID          string
	Impersonation      bool
	ExpiresAt          time.Time
	RemainingUses      *int
	RedelegatedTrustID string
	RedelegationCount  *int
	DeletedAt          time.Time
	RoleIDs            []string
	Extra              map[string]any
}

// AppCred is an application credential: a secret that authenticates as its
// user, limited to a project (or the system), a subset of the user's roles
// and optionally to access rules.
type AppCred struct {
	ID           string
	Name         string
	Description  string
	SecretHash   string
	UserID       string
	ProjectID    string
	System       string
	ExpiresAt    time.Time
	Unrestricted bool
	CreatedAt    time.Time
	RoleIDs      []string
	AccessRules  []AccessRule
}

// AccessRule limits an application credential to one service API call
// pattern.
type AccessRule struct {
	ID      string
	UserID  string
	Service string
	Path    string
	Method  string
}
