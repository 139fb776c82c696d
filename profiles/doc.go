// Package profiles loads archiving profiles: YAML files that say which dossiers a source holds
// (classes: root table, key, child tables), which retention rules apply to them and how they map to
// SEDA. Errors name the file, the line and the field. The apogee and harpege profiles are built in.
package profiles
