//go:build race

package fault_test

// raceEnabled is true when the tests run with -race. The manager binary is
// then built with the race detector too.
const raceEnabled = true
