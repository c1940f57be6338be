package config

// The system-wide places, where `posagent run` and the operator commands look
// without --config, and where `posagent service install` puts the config on
// Windows. On Unix they are /etc/posagent/posagent.toml and
// /var/lib/posagent/posagent.db; on Windows both live in
// %ProgramData%\posagent\, the folder the service's access-control list
// protects.

// SystemConfigPath is the system-wide config file.
func SystemConfigPath() string { return systemConfigPath() }

// DefaultStorePath is store.path when the config does not set it.
func DefaultStorePath() string { return defaultStorePath() }
