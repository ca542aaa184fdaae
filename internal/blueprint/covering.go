package blueprint

// CoveringChoices returns valid combinations of the options such that, for every set of
// strength options, every assignment of them that some valid combination takes is taken by at
// least one returned combination (a covering array). The Pulumi program's mock runs cost about
// a second each, so its policy tests run these instead of AllChoices: a resource or setting
// that depends on up to strength options is still checked in every case it can be in, at a
// few dozen runs instead of thousands (and the count no longer doubles with each new option).
// The result is deterministic: a greedy choice with ties broken by AllChoices' order.
func CoveringChoices(strength int) []Choices {
	all := AllChoices()
	n := len(Options)
	if strength > n {
		strength = n
	}
	var sets [][]int
	var pick func(start int, cur []int)
	pick = func(start int, cur []int) {
		if len(cur) == strength {
			sets = append(sets, append([]int(nil), cur...))
			return
		}
		for i := start; i < n; i++ {
			pick(i+1, append(cur, i))
		}
	}
	pick(0, nil)

	// A tuple is a set of options (its index in sets) and their values (bits of an int).
	type tuple struct{ set, values int }
	tuplesOf := func(c Choices) []tuple {
		ts := make([]tuple, len(sets))
		for s, set := range sets {
			v := 0
			for b, i := range set {
				if c[Options[i]] {
					v |= 1 << b
				}
			}
			ts[s] = tuple{s, v}
		}
		return ts
	}
	uncovered := map[tuple]bool{}
	cand := make([][]tuple, len(all))
	for i, c := range all {
		cand[i] = tuplesOf(c)
		for _, t := range cand[i] {
			uncovered[t] = true
		}
	}
	var out []Choices
	used := make([]bool, len(all))
	for len(uncovered) > 0 {
		best, bestGain := -1, 0
		for i := range all {
			if used[i] {
				continue
			}
			gain := 0
			for _, t := range cand[i] {
				if uncovered[t] {
					gain++
				}
			}
			if gain > bestGain {
				best, bestGain = i, gain
			}
		}
		used[best] = true
		out = append(out, all[best])
		for _, t := range cand[best] {
			delete(uncovered, t)
		}
	}
	return out
}
