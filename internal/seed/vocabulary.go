package seed

import "time"

// Vocabulary is what the synthetic generator draws each product's words from, uniformly: a
// store-side copy of the catalog (the scale bench's, internal/bench) draws from the same lists
// so its products are distributed as the generator's are.
type Vocabulary struct {
	Adjectives, Nouns, Brands, Materials, Uses, Leaves []string
	// Sizes are the Size option's values in order: a larger size costs more (SyntheticProduct).
	Sizes []string
}

// SyntheticVocabulary returns the generator's word lists and the category leaves' slugs.
func SyntheticVocabulary() Vocabulary {
	return Vocabulary{
		Adjectives: adjectives, Nouns: nouns, Brands: brands, Materials: materials, Uses: uses,
		Leaves: syntheticLeaves, Sizes: sizes,
	}
}

// SyntheticEpochSpan returns the range synthetic creation times are drawn from, uniformly:
// [epoch, epoch+span).
func SyntheticEpochSpan() (epoch time.Time, span time.Duration) {
	return syntheticEpoch, time.Duration(syntheticSpan)
}
