package compute

import (
	"net"
	"strings"
)

// Nova's request schemas for servers (nova/api/openstack/compute/schemas/servers.py).

func strSchema() *Schema { return &Schema{Type: Types("string")} }

func uuidSchema() *Schema { return &Schema{Type: Types("string"), Format: "uuid"} }

func nameSchema() *Schema {
	return &Schema{Type: Types("string"), MinLength: 1, MaxLength: 255, Format: "name"}
}

// metadataSchema is parameter_types.metadata.
func metadataSchema() *Schema {
	return &Schema{Type: Types("object"), NoAdditional: true, PatternProperties: []PatternProp{
		{Pattern: "^[a-zA-Z0-9-_:. ]{1,255}$", Schema: &Schema{Type: Types("string"), MaxLength: 255}}}}
}

func positiveIntSchema() *Schema {
	return &Schema{Type: Types("integer", "string"), Pattern: "^[0-9]*$", Minimum: Num(1), MinLength: 1}
}

// tagSchema is parameter_types.tag: no '/' or ',', 1..60 characters.
func tagSchema() *Schema {
	return &Schema{Type: Types("string"), Pattern: "^[^,/]*$", MinLength: 1, MaxLength: maxTagLength,
		Match: func(s string) bool { return !strings.ContainsAny(s, ",/") }}
}

const (
	maxTags      = 50
	maxTagLength = 60
)

func accessIPv4() *Schema {
	return &Schema{Type: Types("string"), Pattern: "ipv4", Match: func(s string) bool {
		ip := net.ParseIP(s)
		return ip != nil && ip.To4() != nil && !strings.Contains(s, ":")
	}}
}

func accessIPv6() *Schema {
	return &Schema{Type: Types("string"), Pattern: "ipv6", Match: func(s string) bool {
		return net.ParseIP(s) != nil && strings.Contains(s, ":")
	}}
}

// hostnameSchema is 2.90's parameter_types.fqdn-like hostname.
func hostnameSchema() *Schema {
	return &Schema{Type: Types("string"), MinLength: 2, MaxLength: 255, Pattern: "^[a-zA-Z0-9-._]*$",
		Match: func(s string) bool {
			for _, r := range s {
				if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._", r)) {
					return false
				}
			}
			return true
		}}
}

func serverCreateSchema(mv Microversion) *Schema {
	network := &Schema{Type: Types("object"), NoAdditional: true, Properties: []Prop{
		{"fixed_ip", &Schema{Type: Types("string")}},
		{"port", &Schema{Type: Types("string", "null"), Format: "uuid"}},
		{"uuid", strSchema()},
		{"tag", tagSchema()},
	}}
	var networks *Schema = &Schema{Type: Types("array"), Items: network}
	if mv.AtLeast(2, 37) {
		networks = &Schema{Type: Types("array", "string"), Items: network, Enum: nil}
	}
	bdm := &Schema{Type: Types("object"), Properties: []Prop{
		{"source_type", &Schema{Type: Types("string"), Enum: []any{"volume", "image", "snapshot", "blank"}}},
		{"destination_type", &Schema{Type: Types("string"), Enum: []any{"local", "volume"}}},
		{"uuid", &Schema{Type: Types("string"), MinLength: 1, MaxLength: 255}},
		{"boot_index", &Schema{Type: Types("integer", "string", "null"), Pattern: "^-?[0-9]+$"}},
		{"volume_size", &Schema{Type: Types("integer", "string", "null"), Pattern: "^[0-9]+$"}},
		{"delete_on_termination", booleanSchema()},
	}}
	props := []Prop{
		{"name", nameSchema()},
		{"imageRef", &Schema{Type: Types("string"), Match: func(s string) bool { return s == "" || isUUIDLike(s) },
			Pattern: "^(uuid)?$"}},
		{"flavorRef", &Schema{Type: Types("string", "integer"), MinLength: 1}},
		{"adminPass", strSchema()},
		{"metadata", metadataSchema()},
		{"networks", networks},
		{"OS-DCF:diskConfig", &Schema{Type: Types("string"), Enum: []any{"AUTO", "MANUAL"}}},
		{"accessIPv4", accessIPv4()},
		{"accessIPv6", accessIPv6()},
		{"availability_zone", nameSchema()},
		{"block_device_mapping_v2", &Schema{Type: Types("array"), Items: bdm}},
		{"config_drive", booleanSchema()},
		{"key_name", nameSchema()},
		{"min_count", positiveIntSchema()},
		{"max_count", positiveIntSchema()},
		{"return_reservation_id", booleanSchema()},
		{"security_groups", &Schema{Type: Types("array"), Items: &Schema{Type: Types("object"), NoAdditional: true,
			Properties: []Prop{{"name", strSchema()}}}}},
		{"user_data", &Schema{Type: Types("string"), MaxLength: 65535}},
	}
	if !mv.AtLeast(2, 57) {
		props = append(props, Prop{"personality", &Schema{Type: Types("array")}})
	}
	if mv.AtLeast(2, 19) {
		props = append(props, Prop{"description", descriptionSchema()})
	}
	if mv.AtLeast(2, 52) {
		props = append(props, Prop{"tags", &Schema{Type: Types("array"), Items: tagSchema(), MaxItems: maxTags}})
	}
	if mv.AtLeast(2, 63) {
		props = append(props, Prop{"trusted_image_certificates", &Schema{Type: Types("array", "null")}})
	}
	if mv.AtLeast(2, 74) {
		props = append(props, Prop{"host", strSchema()}, Prop{"hypervisor_hostname", strSchema()})
	}
	if mv.AtLeast(2, 90) {
		props = append(props, Prop{"hostname", hostnameSchema()})
	}
	required := []string{"name", "flavorRef"}
	if mv.AtLeast(2, 37) {
		required = append(required, "networks")
	}
	hints := &Schema{Type: Types("object"), Properties: []Prop{
		{"group", uuidSchema()},
		{"different_host", &Schema{Type: Types("string", "array"), Items: uuidSchema()}},
		{"same_host", &Schema{Type: Types("string", "array"), Items: uuidSchema()}},
	}}
	return &Schema{Type: Types("object"), NoAdditional: true, Required: []string{"server"}, Properties: []Prop{
		{"server", &Schema{Type: Types("object"), NoAdditional: true, Required: required, Properties: props}},
		{"os:scheduler_hints", hints},
		{"OS-SCH-HNT:scheduler_hints", hints},
	}}
}

func serverUpdateSchema(mv Microversion) *Schema {
	props := []Prop{
		{"name", nameSchema()},
		{"OS-DCF:diskConfig", &Schema{Type: Types("string"), Enum: []any{"AUTO", "MANUAL"}}},
		{"accessIPv4", accessIPv4()},
		{"accessIPv6", accessIPv6()},
	}
	if mv.AtLeast(2, 19) {
		props = append(props, Prop{"description", descriptionSchema()})
	}
	if mv.AtLeast(2, 90) {
		props = append(props, Prop{"hostname", hostnameSchema()})
	}
	return &Schema{Type: Types("object"), NoAdditional: true, Required: []string{"server"}, Properties: []Prop{
		{"server", &Schema{Type: Types("object"), NoAdditional: true, Properties: props}},
	}}
}
