package mitrealm

import (
	"fmt"
	"os"
	"strings"
)

// setting is one "name = value" relation of a profile section.
type setting struct{ name, value string }

// parseSettings parses "name = value" lines.
func parseSettings(lines []string) ([]setting, error) {
	out := make([]setting, 0, len(lines))
	for _, l := range lines {
		name, value, ok := strings.Cut(l, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t[]{}") {
			return nil, fmt.Errorf("mitrealm: %q is not a \"name = value\" profile line", l)
		}
		out = append(out, setting{name, strings.TrimSpace(value)})
	}
	return out, nil
}

// merge returns base with each later setting either replacing the value of
// an earlier one of the same name, in place, or appended. MIT reads the
// first value of a relation and gokrb5 the last, so names never repeat.
func merge(base []setting, more ...[]setting) []setting {
	out := append([]setting(nil), base...)
	for _, list := range more {
	next:
		for _, s := range list {
			for i := range out {
				if out[i].name == s.name {
					out[i].value = s.value
					continue next
				}
			}
			out = append(out, s)
		}
	}
	return out
}

// libdefaults returns the [libdefaults] of h's krb5.conf with extra applied.
func (h *Host) libdefaults(extra []setting) []setting {
	base := []setting{
		{"default_realm", h.Realm},
		{"dns_lookup_kdc", "false"},
		{"dns_lookup_realm", "false"},
		// No DNS in host-based principal names: canon() only lowercases
		// (MIT's src/lib/krb5/os/sn2princ.c), so names are deterministic.
		{"dns_canonicalize_hostname", "false"},
		{"rdns", "false"},
		// The empty string, not an empty value: MIT's profile parser
		// rejects "qualify_shortname =" with nothing after it.
		{"qualify_shortname", `""`},
	}
	if h.opts.AllowDES3 {
		base = append(base, setting{"allow_des3", "true"})
	}
	if h.opts.AllowRC4 {
		base = append(base, setting{"allow_rc4", "true"})
	}
	return merge(base, h.extraLibdefaults, extra)
}

// krb5Conf renders a krb5.conf for h with extra [libdefaults] settings.
func (h *Host) krb5Conf(extra []setting) string {
	var b strings.Builder
	b.WriteString("[libdefaults]\n")
	for _, s := range h.libdefaults(extra) {
		fmt.Fprintf(&b, "\t%s = %s\n", s.name, s.value)
	}
	fmt.Fprintf(&b, "\n[realms]\n\t%s = {\n\t\tkdc = 127.0.0.1:%d\n\t}\n", h.Realm, h.kdcPort)
	return b.String()
}

// kdcConf renders h's kdc.conf.
func (h *Host) kdcConf() string {
	listen := fmt.Sprintf("127.0.0.1:%d", h.kdcPort)
	var b strings.Builder
	fmt.Fprintf(&b, "[kdcdefaults]\n\tkdc_listen = %s\n\tkdc_tcp_listen = %s\n\n", listen, listen)
	fmt.Fprintf(&b, "[realms]\n\t%s = {\n", h.Realm)
	fmt.Fprintf(&b, "\t\tdatabase_name = %s\n", h.DatabaseName)
	fmt.Fprintf(&b, "\t\tkey_stash_file = %s\n", h.Stash)
	fmt.Fprintf(&b, "\t\tmaster_key_type = %s\n", h.opts.masterKeyType())
	fmt.Fprintf(&b, "\t\tsupported_enctypes = %s\n", h.opts.supportedEnctypes())
	fmt.Fprintf(&b, "\t\tkdc_listen = %s\n\t\tkdc_tcp_listen = %s\n", listen, listen)
	b.WriteString("\t}\n\n")
	fmt.Fprintf(&b, "[logging]\n\tkdc = FILE:%s\n\tadmin_server = FILE:%s/kadmind.log\n\tdefault = FILE:%s/other.log\n",
		h.KDCLogFile, h.Dir, h.Dir)
	return b.String()
}

// writeProfiles (re)writes h's krb5.conf, kdc.conf and client profiles,
// which all name the KDC port.
func (h *Host) writeProfiles() error {
	if err := os.WriteFile(h.KRB5Conf, []byte(h.krb5Conf(nil)), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(h.KDCConf, []byte(h.kdcConf()), 0o644); err != nil {
		return err
	}
	for _, p := range h.clientProfiles {
		if err := os.WriteFile(p.path, []byte(h.krb5Conf(p.extra)), 0o644); err != nil {
			return err
		}
	}
	return nil
}
