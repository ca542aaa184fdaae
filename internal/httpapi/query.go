package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/acme/catalog/internal/catalog"
)

// listParams are the query parameters GET /products accepts besides attr.<key>; any other is
// refused, so a typo (catgory=...) is an error instead of a silently unfiltered list.
var listParams = []string{"fields", "category", "status", "brand", "currency", "min_price", "max_price", "in_stock", "q", "sort", "limit", "cursor", "total", "collection", "facets"}

// attrPrefix starts the name of an attribute filter parameter: attr.colour=red.
const attrPrefix = "attr."

// ParseListQuery turns GET /products query parameters into a validated ListQuery. Without a
// status parameter only active products are listed: shoppers never see drafts by accident;
// status=all lists every status. attr looks up the definition of an attribute filter's key
// (attr.<key>=...); it is called only for well-formed keys, at most
// catalog.MaxAttributeFilters times.
func ParseListQuery(v url.Values, attr func(key string) (catalog.AttributeDefinition, error)) (catalog.ListQuery, error) {
	var p catalog.Problems
	var attrKeys []string
	for name, vals := range v {
		if key, ok := strings.CutPrefix(name, attrPrefix); ok {
			switch {
			case !catalog.ValidAttributeKey(key):
				p.Add(name, "is not an attribute filter: attr.<key> with a key of lower-case letters, digits and '_'")
			case len(vals) > 1:
				p.Add(name, "must be given once (list several values separated by commas)")
			default:
				attrKeys = append(attrKeys, key)
			}
			continue
		}
		if name == "" {
			p.Add("query", "has a parameter without a name (%q)", "="+vals[0])
		} else if !slices.Contains(listParams, name) {
			p.Add(name, "is not a known query parameter (known: %s)", strings.Join(listParams, ", "))
		} else if len(vals) > 1 && name != "status" {
			p.Add(name, "must be given once")
		}
	}
	if len(attrKeys) > catalog.MaxAttributeFilters {
		p.Add("attr", "at most %d attribute filters", catalog.MaxAttributeFilters)
	}
	if err := p.Err(); err != nil {
		return catalog.ListQuery{}, err
	}
	q := catalog.ListQuery{Sort: catalog.SortNewest, Limit: catalog.DefaultLimit}
	f := &q.Filter
	slices.Sort(attrKeys) // a stable order: the cursor's fingerprint depends on it
	for _, key := range attrKeys {
		d, err := attr(key)
		switch catalog.ErrorCode(err) {
		case "":
		case catalog.CodeNotFound:
			p.Add(attrPrefix+key, "%s is not a defined attribute (GET /attributes lists them)", key)
			continue
		default:
			return catalog.ListQuery{}, err
		}
		af, err := catalog.ParseAttributeFilter(d, v.Get(attrPrefix+key))
		if err != nil {
			var e *catalog.Error
			if errors.As(err, &e) {
				p = append(p, e.Fields...)
				continue
			}
			return catalog.ListQuery{}, err
		}
		f.Attributes = append(f.Attributes, af)
	}
	f.Category = v.Get("category")
	f.Brand = v.Get("brand")
	f.Currency = v.Get("currency")
	f.Query = v.Get("q")
	f.Collection = v.Get("collection")
	statuses := v["status"]
	if len(statuses) == 0 {
		f.Statuses = []catalog.Status{catalog.StatusActive}
	}
	for _, s := range statuses {
		for _, part := range strings.Split(s, ",") {
			if part == "all" {
				f.Statuses = nil
				statuses = nil
				break
			}
			f.Statuses = append(f.Statuses, catalog.Status(part))
		}
		if statuses == nil {
			break
		}
	}
	intParam := func(name string, dst **int64) {
		if s := v.Get(name); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				p.Add(name, "must be an integer amount in minor units (cents), not %q", s)
				return
			}
			*dst = &n
		}
	}
	intParam("min_price", &f.MinPrice)
	intParam("max_price", &f.MaxPrice)
	boolParam := func(name string) *bool {
		switch v.Get(name) {
		case "":
			return nil
		case "true", "1":
			b := true
			return &b
		case "false", "0":
			b := false
			return &b
		}
		p.Add(name, "must be true or false")
		return nil
	}
	f.InStock = boolParam("in_stock")
	if t := boolParam("total"); t != nil {
		q.WithTotal = *t
	}
	if s := v.Get("sort"); s != "" {
		q.Sort = catalog.Sort(s)
	} else {
		q.Sort = catalog.DefaultSort(*f) // position in a collection, relevance with q
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			p.Add("limit", "must be an integer between 1 and %d", catalog.MaxLimit)
		} else {
			q.Limit = n
		}
	}
	if err := p.Err(); err != nil {
		return catalog.ListQuery{}, err
	}
	if s := v.Get("cursor"); s != "" {
		c, err := catalog.ParseCursor(s)
		if err != nil {
			return catalog.ListQuery{}, err
		}
		q.After = c
	}
	if err := q.Validate(); err != nil {
		return catalog.ListQuery{}, err
	}
	return q, nil
}

// MaxQueryBytes bounds the raw query string; the longest legitimate one (every filter at its
// limit and a cursor) is under 2 KiB.
const MaxQueryBytes = 4 << 10

// queryValues parses the query string, refusing a malformed one instead of dropping the pairs
// it cannot read (as URL.Query does), which would silently ignore a filter. Every name and
// value passes a text rule here, before any handler looks at it.
func queryValues(r *http.Request) (url.Values, error) {
	if len(r.URL.RawQuery) > MaxQueryBytes {
		return nil, catalog.InvalidField("query", "must be at most %d bytes", MaxQueryBytes)
	}
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, catalog.InvalidField("query", "is not a valid query string (check the %%-escapes)")
	}
	var p catalog.Problems
	for name, vals := range v {
		if name == "" {
			p.Add("query", "has a parameter without a name")
			continue
		}
		if why := catalog.TextProblem(name, catalog.Identifier); why != "" {
			p.Add("query", "a parameter name %s", why)
			continue
		}
		for _, val := range vals {
			if why := catalog.TextProblem(val, catalog.Line); why != "" {
				p.Add(name, "%s", why)
			}
		}
	}
	return v, p.Err()
}
