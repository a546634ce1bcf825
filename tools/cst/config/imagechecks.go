package config

import (
	"os"
	"time"
)

// ImageChecksSchemaVersion is the schemaVersion of an image checks file.
const ImageChecksSchemaVersion = "cat-server.image-checks/v1"

// ImageChecks are the project's checks that CST's schema lacks. Every key
// but schemaVersion is optional; an absent key is not checked.
type ImageChecks struct {
	SchemaVersion string              `yaml:"schemaVersion"`
	Size          *SizeLimits         `yaml:"size,omitempty"`
	Healthcheck   *HealthcheckExpects `yaml:"healthcheck,omitempty"`
	// NoSetuidFiles: no non-directory entry of the merged filesystem may
	// have the setuid or setgid bit (setgid directories are allowed: they
	// only pass their group on to new files).
	NoSetuidFiles bool `yaml:"noSetuidFiles,omitempty"`
	// ExposedPortsExactly: the image exposes these ports and no other
	// (CST's exposedPorts/unexposedPorts can only list ports one by one).
	// A port without a protocol means PORT/tcp.
	ExposedPortsExactly []string `yaml:"exposedPortsExactly,omitempty"`
}

// SizeLimits bound the image size.
type SizeLimits struct {
	// MaxCompressedBytes bounds what a registry stores: the compressed
	// layers plus the config blob plus the manifest.
	MaxCompressedBytes *int64 `yaml:"maxCompressedBytes,omitempty"`
	// MaxUncompressedBytes bounds the sum of the uncompressed layer tars.
	MaxUncompressedBytes *int64 `yaml:"maxUncompressedBytes,omitempty"`
}

// HealthcheckExpects is the expected HEALTHCHECK of the image config. Its
// presence requires the image to have a healthcheck; each absent field is
// not compared.
type HealthcheckExpects struct {
	Test        []string       `yaml:"test,omitempty"`
	Interval    *time.Duration `yaml:"interval,omitempty"`
	Timeout     *time.Duration `yaml:"timeout,omitempty"`
	StartPeriod *time.Duration `yaml:"startPeriod,omitempty"`
	Retries     *int           `yaml:"retries,omitempty"`
}

// LoadImageChecks reads and validates the image checks file at file.
func LoadImageChecks(file string) (*ImageChecks, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return ParseImageChecks(file, data)
}

// ParseImageChecks decodes and validates an image checks file; name is used
// in error messages.
func ParseImageChecks(name string, data []byte) (*ImageChecks, error) {
	var c ImageChecks
	p, err := start(name, data, &c)
	if err != nil {
		return nil, err
	}
	switch c.SchemaVersion {
	case ImageChecksSchemaVersion:
	case "":
		p.add(nil, "schemaVersion is missing, want %q", ImageChecksSchemaVersion)
	default:
		p.add(path_("schemaVersion"), "schemaVersion is %q, want %q", c.SchemaVersion, ImageChecksSchemaVersion)
	}
	if s := c.Size; s != nil {
		if s.MaxCompressedBytes != nil && *s.MaxCompressedBytes <= 0 {
			p.add(path_("size", "maxCompressedBytes"), "maxCompressedBytes is %d, want > 0", *s.MaxCompressedBytes)
		}
		if s.MaxUncompressedBytes != nil && *s.MaxUncompressedBytes <= 0 {
			p.add(path_("size", "maxUncompressedBytes"), "maxUncompressedBytes is %d, want > 0", *s.MaxUncompressedBytes)
		}
	}
	if h := c.Healthcheck; h != nil {
		if h.Test != nil && len(h.Test) == 0 {
			p.add(path_("healthcheck", "test"), "test is empty, want e.g. [\"CMD\", \"/app/bin\", \"healthcheck\"]")
		}
		for _, d := range []struct {
			key string
			d   *time.Duration
		}{{"interval", h.Interval}, {"timeout", h.Timeout}, {"startPeriod", h.StartPeriod}} {
			if d.d != nil && *d.d < 0 {
				p.add(path_("healthcheck", d.key), "%s is %s, want >= 0", d.key, *d.d)
			}
		}
		if h.Retries != nil && *h.Retries < 0 {
			p.add(path_("healthcheck", "retries"), "retries is %d, want >= 0", *h.Retries)
		}
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return &c, nil
}
