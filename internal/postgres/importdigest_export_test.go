package postgres

// ImportDigestsOff makes every import update line go the full comparison path (off true) or
// lets digests prove lines unchanged (false), and returns a function that restores the default.
func ImportDigestsOff(off bool) (undo func()) {
	importDigestsOff = off
	return func() { importDigestsOff = false }
}

// ImportProven sets a function told how many lines of each import batch their digests proved
// unchanged (nil: none), and returns a function that removes it.
func ImportProven(f func(n int)) (undo func()) {
	importProven = f
	return func() { importProven = nil }
}
