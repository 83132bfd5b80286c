package krbauth_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

// A dump of 100 KiB goes from a kprop-style client to a kpropd-style
// server as a stream of 32 KiB KRB-PRIVs: the client fills each message's
// buffer straight from the dump while earlier ones are encrypted and
// written; the server reads ahead, decrypts in parallel and gets the data
// in order.
func ExampleConn_NewPrivWriter() {
	client, server := handshaken()
	defer client.Close()
	defer server.Close()
	dump := bytes.Repeat([]byte("princ\t...\n"), 10<<10)
	client.StartChaining()
	server.StartChaining()

	done := make(chan error, 1)
	go func() {
		w, err := client.NewPrivWriter(krbauth.PrivWriterOptions{MaxData: 32 << 10})
		if err != nil {
			done <- err
			return
		}
		r := bytes.NewReader(dump)
		for r.Len() > 0 {
			buf, err := w.Buffer(min(32<<10, r.Len()))
			if err != nil {
				done <- err
				return
			}
			r.Read(buf)
			if err := w.Send(); err != nil {
				done <- err
				return
			}
		}
		done <- w.Close()
	}()

	r, err := server.NewPrivReader(krbauth.PrivReaderOptions{Total: int64(len(dump))})
	if err != nil {
		log.Fatal(err)
	}
	var got, msgs int
	for got < len(dump) {
		data, err := r.Next()
		if err != nil {
			log.Fatal(err)
		}
		got += len(data)
		msgs++
	}
	r.Close()
	if err := <-done; err != nil {
		log.Fatal(err)
	}
	fmt.Println(got, "bytes in", msgs, "KRB-PRIVs")
	// Output: 102400 bytes in 4 KRB-PRIVs
}

// handshaken returns both ends of a loopback connection after the
// handshake, with a ticket minted from the server's keytab (a real client
// gets it from the KDC).
func handshaken() (client, server *krbauth.Conn) { return handshakenFast(false) }

// handshakenFast is handshaken with the fast data phase offered and
// accepted, or not.
func handshakenFast(fast bool) (client, server *krbauth.Conn) {
	const realm = "EXAMPLE.ORG"
	cp := krb5.HostPrincipal("host", "primary.example.org", realm)
	sp := krb5.HostPrincipal("host", "replica.example.org", realm)
	kt := keytab.New()
	if err := kt.AddEntry("host/replica.example.org", realm, "not a real key", time.Now(), 1, int32(krb5.EnctypeAES256CTSSHA1)); err != nil {
		log.Fatal(err)
	}
	now := time.Now().UTC()
	tkt, key, err := messages.NewTicket(cp.Name, realm, sp.Name, realm, types.NewKrbFlags(), kt,
		int32(krb5.EnctypeAES256CTSSHA1), 1, now, now, now.Add(time.Hour), time.Time{})
	if err != nil {
		log.Fatal(err)
	}
	creds := &krbauth.Credentials{Client: cp, Server: sp, Ticket: tkt, SessionKey: key,
		AuthTime: now, StartTime: now, EndTime: now.Add(time.Hour)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	accepted := make(chan *krbauth.Conn, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		c := krbauth.Server(nc, &krbauth.ServerConfig{GetKeytab: func() (*keytab.Keytab, error) { return kt, nil },
			Principal: sp, ReplayCache: krbauth.NewReplayCache(), ApplVersion: "kprop5_01", FastData: fast})
		if err := c.HandshakeContext(ctx); err != nil {
			log.Fatal(err)
		}
		accepted <- c
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	client = krbauth.Client(nc, &krbauth.ClientConfig{Credentials: creds, ApplVersion: "kprop5_01", FastData: fast})
	if err := client.HandshakeContext(ctx); err != nil {
		log.Fatal(err)
	}
	return client, <-accepted
}

// With FastData set on both ends the handshake negotiates the fast data
// phase (an MIT peer would simply not take part): the same PrivWriter and
// PrivReader calls then move AES-256-GCM records of up to FastRecordSize
// bytes, and the writer needs the stream's Total, as the reader does.
func ExampleClientConfig_fastData() {
	client, server := handshakenFast(true)
	defer client.Close()
	defer server.Close()
	fmt.Println("fast data:", client.State().FastData, server.State().FastData)
	dump := bytes.Repeat([]byte("princ\t...\n"), 100<<10) // 1000 KiB
	total := int64(len(dump))
	client.StartChaining() // as kprop does; no effect on the records
	server.StartChaining()

	done := make(chan error, 1)
	go func() {
		w, err := client.NewPrivWriter(krbauth.PrivWriterOptions{MaxData: krbauth.FastRecordSize, Total: total})
		if err != nil {
			done <- err
			return
		}
		r := bytes.NewReader(dump)
		for r.Len() > 0 {
			buf, err := w.Buffer(min(krbauth.FastRecordSize, r.Len()))
			if err != nil {
				done <- err
				return
			}
			r.Read(buf)
			if err := w.Send(); err != nil {
				done <- err
				return
			}
		}
		done <- w.Close()
	}()

	r, err := server.NewPrivReader(krbauth.PrivReaderOptions{Total: total})
	if err != nil {
		log.Fatal(err)
	}
	var got, records int
	for got < len(dump) {
		data, err := r.Next()
		if err != nil {
			log.Fatal(err)
		}
		got += len(data)
		records++
	}
	r.Close()
	if err := <-done; err != nil {
		log.Fatal(err)
	}
	fmt.Println(got, "bytes in", records, "records")
	// Output:
	// fast data: true true
	// 1024000 bytes in 4 records
}
