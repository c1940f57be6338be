//go:build !windows

package config

func systemConfigPath() string { return "/etc/posagent/posagent.toml" }

func defaultStorePath() string { return "/var/lib/posagent/posagent.db" }
