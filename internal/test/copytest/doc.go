// Package copytest holds one test, TestExamplesBuildOutsideTheModule: every
// example under examples/ must build when a user copies it alone into a
// module of their own, so examples import only livesse's public packages.
package copytest
