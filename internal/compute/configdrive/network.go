package configdrive

// NetworkData is network_data.json as Nova writes it (Liberty format):
// the guest's links (interfaces), the L3 networks on them and services
// such as DNS servers.
type NetworkData struct {
	Links    []Link    `json:"links"`
	Networks []Network `json:"networks"`
	Services []Service `json:"services"`
}

// Link is one interface; ID is the name networks refer to (Nova uses
// the tap device name), VifID the Neutron port.
type Link struct {
	ID                 string `json:"id"`
	Type               string `json:"type"` // "bridge", "ovs", "phy", "tap", ...
	EthernetMACAddress string `json:"ethernet_mac_address"`
	MTU                *int   `json:"mtu"` // null when unknown, as Nova writes it
	VifID              string `json:"vif_id"`
}

// Network is one subnet on a link. Type "ipv4_dhcp"/"ipv6_dhcp" carries
// no addresses; "ipv4"/"ipv6" are static and carry them.
type Network struct {
	ID        string    `json:"id"` // "network0", ...
	Type      string    `json:"type"`
	Link      string    `json:"link"`
	NetworkID string    `json:"network_id"` // the Neutron network
	IPAddress string    `json:"ip_address,omitempty"`
	Netmask   string    `json:"netmask,omitempty"`
	Routes    []Route   `json:"routes,omitempty"`
	Services  []Service `json:"services,omitempty"`
}

// Route is a static route of a Network.
type Route struct {
	Network string `json:"network"`
	Netmask string `json:"netmask"`
	Gateway string `json:"gateway"`
}

// Service is a network service the guest should use, e.g. {"dns", "10.0.0.2"}.
type Service struct {
	Type    string `json:"type"`
	Address string `json:"address"`
}

// normalized writes empty lists as [] (Nova's shape for --nic none), never null.
func (n NetworkData) normalized() NetworkData {
	if n.Links == nil {
		n.Links = []Link{}
	}
	if n.Networks == nil {
		n.Networks = []Network{}
	}
	if n.Services == nil {
		n.Services = []Service{}
	}
	return n
}
