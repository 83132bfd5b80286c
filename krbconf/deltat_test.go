package krbconf

import (
	"errors"
	"testing"
	"time"
)

func TestParseDeltat(t *testing.T) {
	const day, hour, min = 86400, 3600, 60
	good := map[string]int64{
		"3d": 3 * day, "3h": 3 * hour, "3m": 3 * min, "3s": 3, "42": 42, "0": 0,
		"3d4m    42s": 3*day + 4*min + 42, "3d-1h": 3*day - hour, "3d -1h": 3*day - hour,
		"3d4h5m6s": 3*day + 4*hour + 5*min + 6, "12345s": 12345, "1m 12345s": min + 12345,
		"1m12345s": min + 12345, "3d 0m": 3 * day, "3d 0m  ": 3 * day, "3d \n\t 0m  ": 3 * day,
		"42-13:42:47": 42*day + 13*hour + 42*min + 47, "12:34": 12*hour + 34*min,
		"1:02:03": hour + 2*min + 3, "3:4": 3*hour + 4*min, " 5m": 5 * min,
		"1h30m": 90 * min, "10h 0m 0s": 10 * hour, "7d 0h 0m 0s": 7 * day, "2:00:00": 2 * hour,
		"1d": day, "300": 300, "10x": 10, "5m x": 5 * min, "1h 5s": hour + 5,
		"2147483647s": 2147483647, "24855d": 24855 * day, "24855d 3h": 24855*day + 3*hour,
		"24855d 11647s": 24855*day + 11647, "24855d 194m 7s": 24855*day + 194*min + 7,
		"24855d 3h 14m 7s": 24855*day + 3*hour + 14*min + 7, "596523h": 596523 * hour,
		"596523h 847s": 596523*hour + 847, "596523h 14m 7s": 596523*hour + 14*min + 7,
		"35791394m": 35791394 * min, "35791394m7s": 35791394*min + 7,
		"-2147483647s": -2147483647, "-24855d": -24855 * day, "-24855d -3h": -24855*day - 3*hour,
		"-24855d -11647s": -24855*day - 11647, "-24855d -194m -7s": -24855*day - 194*min - 7,
		"-24855d -3h -14m -7s": -24855*day - 3*hour - 14*min - 7, "-596523h": -596523 * hour,
		"-596523h -847s": -596523*hour - 847, "-596523h -848s": -596523*hour - 848,
		"-596523h -14m -8s": -596523*hour - 14*min - 8, "-35791394m": -35791394 * min,
		"-35791394m7s": -35791394*min + 7,
	}
	for in, want := range good {
		got, err := ParseDeltat(in)
		if err != nil || got != time.Duration(want)*time.Second {
			t.Errorf("ParseDeltat(%q) = %v, %v; want %ds", in, got, err, want)
		}
	}
	bad := []string{
		"", " ", "3dd", "3d4m5h", "3: 4", "13:0003", "3:-4", "1-2", "2147483648s", "24856d",
		"24855d 100000000h", "24855d 4h", "24855d 11648s", "24855d 194m 8s", "24855d 195m",
		"24855d 19500000000m", "24855d 3h 14m 8s", "596524h", "596523h 848s", "596523h 14m 8s",
		"35791394m8s", "-24856d", "-24855d -100000000h", "-24855d -4h", "-24855d -11649s",
		"-24855d -194m -9s", "-24855d -195m", "-24855d -19500000000m", "-24855d -3h -14m -9s",
		"-596524h", "-596523h -849s", "-596523h -14m -9s", "-35791394m-9s", "42 ", "3s ", "h", "-",
		"1d2d", "1s2s", "1:2:3:4", "1-2:3", "5 6",
	}
	for _, in := range bad {
		if got, err := ParseDeltat(in); !errors.Is(err, ErrBadDeltat) {
			t.Errorf("ParseDeltat(%q) = %v, %v; want error", in, got, err)
		}
	}
}

func FuzzParseDeltat(f *testing.F) {
	for _, s := range []string{"1d 2h 3m 4s", "12:34:56", "1-02:03:04", "-5m", "2147483647"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDeltat(s)
		if err == nil && (d > time.Duration(1<<31)*time.Second || d < -time.Duration(1<<31)*time.Second) {
			t.Fatalf("%q: %v out of range", s, d)
		}
	})
}
