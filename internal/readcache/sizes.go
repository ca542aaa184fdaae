package readcache

import (
	"reflect"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// ProductBytes estimates the heap memory a cached product holds: its struct, and everything
// reachable from it that it owns (strings' bytes, slices' backing arrays at their capacity,
// maps' tables, values boxed in interfaces). It walks the value by reflection, so a field
// added to catalog.Product is counted without anyone remembering to; TestProductBytesTracksHeap
// holds it to the heap a decoded product really takes.
func ProductBytes(p *catalog.Product) int64 {
	v := reflect.ValueOf(p).Elem()
	return int64(v.Type().Size()) + ownedBytes(v)
}

var timeType = reflect.TypeFor[time.Time]()

// ownedBytes is what v points to beyond its own inline size.
func ownedBytes(v reflect.Value) int64 {
	switch v.Kind() {
	case reflect.String:
		return int64(v.Len())
	case reflect.Slice:
		if v.IsNil() {
			return 0
		}
		n := int64(v.Cap()) * int64(v.Type().Elem().Size())
		for i := range v.Len() {
			n += ownedBytes(v.Index(i))
		}
		return n
	case reflect.Array:
		var n int64
		for i := range v.Len() {
			n += ownedBytes(v.Index(i))
		}
		return n
	case reflect.Struct:
		if v.Type() == timeType {
			return 0 // its *Location is shared (UTC, Local), not owned
		}
		var n int64
		for i := range v.NumField() {
			n += ownedBytes(v.Field(i))
		}
		return n
	case reflect.Pointer:
		if v.IsNil() {
			return 0
		}
		return int64(v.Type().Elem().Size()) + ownedBytes(v.Elem())
	case reflect.Interface:
		if v.IsNil() {
			return 0
		}
		e := v.Elem()
		return int64(e.Type().Size()) + ownedBytes(e) // boxed: an allocation of its own
	case reflect.Map:
		if v.IsNil() {
			return 0
		}
		return mapBytes(v)
	}
	return 0
}

// mapBytes estimates a Go map (swiss tables since Go 1.24): a header, and groups of 8 slots
// with a control word, filled to at most 7/8.
func mapBytes(v reflect.Value) int64 {
	const header, group = 48, 8
	slots := int64(group)
	for slots*7/8 < int64(v.Len()) {
		slots *= 2
	}
	slot := int64(v.Type().Key().Size() + v.Type().Elem().Size())
	n := header + slots*slot + slots/group*8
	for it := v.MapRange(); it.Next(); {
		n += ownedBytes(it.Key()) + ownedBytes(it.Value())
	}
	return n
}
