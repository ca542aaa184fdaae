package catalog

import (
	"testing"
)

func TestProductPatchApply(t *testing.T) {
	cur := ProductInput{Name: "Tee", Description: "Soft", Category: "apparel", Brand: "Acme", Status: StatusActive,
		Attributes: Attributes{"material": "cotton", "gsm": 180.0}, Media: []Media{{URL: "https://x.example/a.jpg"}},
		Options: sizeColour()}
	cur.Normalize()
	before := show(cur)
	tests := []struct {
		name  string
		patch ProductPatch
		check func(ProductInput) bool
	}{
		{"empty keeps everything", ProductPatch{}, func(o ProductInput) bool { return o.Same(cur) }},
		{"name, trimmed", ProductPatch{Name: ptr("  Tee two ")}, func(o ProductInput) bool { return o.Name == "Tee two" && o.Brand == "Acme" }},
		{"null removes optional text", ProductPatch{Description: ptr(""), Brand: ptr("")}, func(o ProductInput) bool {
			return o.Description == "" && o.Brand == "" && o.Name == "Tee"
		}},
		{"attributes merge and remove", ProductPatch{Attributes: map[string]any{"gsm": 200.0, "fit": "slim"}, RemoveAttributes: map[string]bool{"material": true}},
			func(o ProductInput) bool { return o.Attributes.Equal(Attributes{"gsm": 200.0, "fit": "slim"}) }},
		{"attributes cleared", ProductPatch{ClearAttributes: true}, func(o ProductInput) bool { return len(o.Attributes) == 0 && o.Attributes != nil }},
		{"media replaced whole", ProductPatch{Media: &[]Media{{URL: " https://x.example/b.jpg "}}}, func(o ProductInput) bool {
			return len(o.Media) == 1 && o.Media[0].URL == "https://x.example/b.jpg"
		}},
		{"media cleared", ProductPatch{Media: &[]Media{}}, func(o ProductInput) bool { return o.Media != nil && len(o.Media) == 0 }},
		{"options replaced whole, trimmed", ProductPatch{Options: &[]Option{{Name: " Size ", Values: []string{" L "}}}}, func(o ProductInput) bool {
			return len(o.Options) == 1 && o.Options[0].Name == "Size" && o.Options[0].Values[0] == "L"
		}},
		{"status", ProductPatch{Status: ptr(StatusArchived)}, func(o ProductInput) bool { return o.Status == StatusArchived }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := tc.patch.Apply(cur)
			if !tc.check(out) || out.Variants != nil {
				t.Fatalf("Apply = %s", show(out))
			}
			if show(cur) != before {
				t.Fatalf("Apply modified its input:\n got %s\nwant %s", show(cur), before)
			}
		})
	}
	// The options of the patch are copied: changing the caller's slice later changes nothing.
	opts := []Option{{Name: "Size", Values: []string{"S"}}}
	out := ProductPatch{Options: &opts}.Apply(cur)
	opts[0].Values[0] = "XL"
	if out.Options[0].Values[0] != "S" {
		t.Fatalf("Apply shares the patch's option values: %v", out.Options)
	}
}

func TestPatchOutcome(t *testing.T) {
	p := Product{ID: NewID(), Version: 3, Name: "Tee", Category: "apparel", Status: StatusActive,
		Attributes: Attributes{"material": "cotton"}, Options: sizeColour(), Variants: []Variant{{ID: NewID(), SKU: "T-1"}}}
	tests := []struct {
		name      string
		patch     ProductPatch
		ifVersion int64
		code      Code
		changed   bool
	}{
		{"nothing", ProductPatch{}, 3, "", false},
		{"the same values", ProductPatch{Name: ptr("Tee"), Attributes: map[string]any{"material": "cotton"}, RemoveAttributes: map[string]bool{"absent": true}}, 0, "", false},
		{"the same name padded", ProductPatch{Name: ptr(" Tee ")}, 0, "", false},
		{"empty media as before (nil)", ProductPatch{Media: &[]Media{}}, 0, "", false},
		{"a new name", ProductPatch{Name: ptr("Tee 2")}, 3, "", true},
		{"an attribute removed", ProductPatch{RemoveAttributes: map[string]bool{"material": true}}, 0, "", true},
		{"stale", ProductPatch{Name: ptr("Tee 2")}, 2, CodePreconditionFailed, false},
		{"stale, even for nothing", ProductPatch{}, 4, CodePreconditionFailed, false},
		{"name removed", ProductPatch{Name: ptr("")}, 0, CodeInvalid, false},
		{"bad category", ProductPatch{Category: ptr("Not A Slug")}, 0, CodeInvalid, false},
		{"bad option", ProductPatch{Options: &[]Option{{Name: "Size"}}}, 0, CodeInvalid, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, changed, err := PatchOutcome(p, tc.patch, tc.ifVersion)
			if ErrorCode(err) != tc.code || changed != tc.changed {
				t.Fatalf("PatchOutcome = changed %v, %v; want changed %v, code %q", changed, err, tc.changed, tc.code)
			}
			if err == nil && in.Variants != nil {
				t.Fatalf("PatchOutcome carries variants: %s", show(in.Variants))
			}
		})
	}
}
