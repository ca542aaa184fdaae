// Package readmetest runs the README's examples: every ```sh block marked
// <!-- readme-test --> is executed with bash against the real binary, so the examples users
// paste keep working. The package holds only that test.
package readmetest
