package compute

import (
	"fmt"
	"slices"
	"strings"
)

// Response field sets from Tempest's compute response schemas
// (tempest/lib/api_schema/response/compute/v2_*), which have
// additionalProperties False: a response must carry exactly the required
// keys plus only optional ones listed here.

type fieldSet struct {
	required []string
	optional []string
}

// check returns "" when obj's keys fit the set, else what is wrong.
func (fs fieldSet) check(obj any) string {
	m, ok := obj.(map[string]any)
	if !ok {
		return fmt.Sprintf("not an object: %v", obj)
	}
	var problems []string
	for _, k := range fs.required {
		if _, ok := m[k]; !ok {
			problems = append(problems, "missing "+k)
		}
	}
	for k := range m {
		if !slices.Contains(fs.required, k) && !slices.Contains(fs.optional, k) {
			problems = append(problems, "unexpected "+k)
		}
	}
	slices.Sort(problems)
	return strings.Join(problems, ", ")
}

var (
	flavorOptional = []string{"OS-FLV-DISABLED:disabled", "os-flavor-access:is_public", "rxtx_factor", "OS-FLV-EXT-DATA:ephemeral"}
	// v2_1/flavors.py common_flavor_info
	flavorDetail21 = fieldSet{required: []string{"name", "links", "ram", "vcpus", "swap", "disk", "id"}, optional: flavorOptional}
	// v2_55/flavors.py
	flavorDetail255 = fieldSet{required: append(slices.Clone(flavorDetail21.required), "description"), optional: flavorOptional}
	// v2_61/flavors.py: extra_specs optional
	flavorDetail261 = fieldSet{required: flavorDetail255.required, optional: append(slices.Clone(flavorOptional), "extra_specs")}
	flavorBasic21   = fieldSet{required: []string{"name", "links", "id"}}
	flavorBasic255  = fieldSet{required: []string{"name", "links", "id", "description"}}

	// v2_1/keypairs.py and v2_2/keypairs.py
	keypairShow21   = fieldSet{required: []string{"public_key", "name", "fingerprint", "user_id", "deleted", "created_at", "updated_at", "deleted_at", "id"}}
	keypairShow22   = fieldSet{required: append(slices.Clone(keypairShow21.required), "type")}
	keypairCreate21 = fieldSet{required: []string{"fingerprint", "name", "public_key", "user_id"}, optional: []string{"private_key"}}
	keypairCreate22 = fieldSet{required: append(slices.Clone(keypairCreate21.required), "type"), optional: []string{"private_key"}}
	keypairList21   = fieldSet{required: []string{"public_key", "name", "fingerprint"}}
	keypairList22   = fieldSet{required: []string{"public_key", "name", "fingerprint", "type"}}
)
