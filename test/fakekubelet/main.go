// Command fakekubelet serves the four kubelet endpoints kube-apiserver forwards pod subresources to
// (/exec, /attach, /portForward and /containerLogs) with the server code a real node uses:
// k8s.io/cri-streaming for the SPDY and WebSocket stream protocols and k8s.io/cri-client/pkg/logs
// for reading CRI log files. Only the container runtime underneath is fake: local processes and
// files.
//
// It exists so that kubekit's stream tests go through a real kube-apiserver: the API server reads
// the pod's Node, dials the address and port registered there, and proxies or translates the
// stream exactly as it does for a real kubelet.
//
// The test helper (test/support/fakekubelet.ts) owns the state under -state-dir:
//
//	pods/<namespace>/<pod>/<container>/
//	    logs/<n>.log  the log of the container's n-th run in the CRI log format; the highest n is
//	                  the current run, the one before it is what `previous` reads
//	    exited        present once the current run has ended: a log follow then ends
//	    attach.json   {"command": [...]}: the container's main process, started on the first attach
//	    root/         the working directory of exec'd commands and of the main process
//
// A pod or container exists when its directory does. On start the program prints one JSON line,
// {"port": N}, to stdout. It exits on SIGTERM or SIGINT, or when its stdin closes (the test process
// is gone), and kills every process it started first.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"k8s.io/cri-streaming/pkg/streaming/portforward"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
)

// The kubelet's defaults: --streaming-connection-idle-timeout and the stream creation timeout.
const (
	idleTimeout           = 4 * time.Hour
	streamCreationTimeout = remotecommand.DefaultStreamCreationTimeout
)

func main() {
	stateDir := flag.String("state-dir", "", "directory holding the pods' state (required)")
	address := flag.String("address", "127.0.0.1:0", "address to serve HTTPS on")
	flag.Parse()
	if *stateDir == "" {
		fmt.Fprintln(os.Stderr, "fakekubelet: -state-dir is required")
		os.Exit(2)
	}

	cert, err := selfSignedCertificate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakekubelet:", err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", *address)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakekubelet:", err)
		os.Exit(1)
	}

	rt := newRuntime(*stateDir)
	mux := http.NewServeMux()
	mux.HandleFunc("/exec/{namespace}/{pod}/{container}", rt.serveExec)
	mux.HandleFunc("/attach/{namespace}/{pod}/{container}", rt.serveAttach)
	mux.HandleFunc("/portForward/{namespace}/{pod}", rt.servePortForward)
	mux.HandleFunc("/containerLogs/{namespace}/{pod}/{container}", rt.serveLogs)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })

	// HTTP/1.1 only: SPDY and WebSocket upgrades hijack the connection, which HTTP/2 cannot do.
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}
	srv := &http.Server{
		Handler:      mux,
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	go func() { _ = srv.Serve(tls.NewListener(ln, tlsConfig)) }()

	if err := json.NewEncoder(os.Stdout).Encode(map[string]int{"port": ln.Addr().(*net.TCPAddr).Port}); err != nil {
		os.Exit(1)
	}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		stop <- syscall.SIGTERM
	}()
	<-stop
	rt.killAll()
	os.Exit(0)
}

func (rt *fakeRuntime) serveExec(w http.ResponseWriter, req *http.Request) {
	opts, err := remotecommand.NewOptions(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	podKey, container, ok := rt.lookup(w, req, "pod does not exist")
	if !ok {
		return
	}
	cmd := req.URL.Query()["command"]
	remotecommand.ServeExec(w, req, rt, podKey, "", container, cmd, opts, idleTimeout, streamCreationTimeout, remotecommand.SupportedStreamingProtocols)
}

func (rt *fakeRuntime) serveAttach(w http.ResponseWriter, req *http.Request) {
	opts, err := remotecommand.NewOptions(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	podKey, container, ok := rt.lookup(w, req, "pod does not exist")
	if !ok {
		return
	}
	remotecommand.ServeAttach(w, req, rt, podKey, "", container, opts, idleTimeout, streamCreationTimeout, remotecommand.SupportedStreamingProtocols)
}

func (rt *fakeRuntime) servePortForward(w http.ResponseWriter, req *http.Request) {
	opts, err := portforward.NewV4Options(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	podKey, _, ok := rt.lookup(w, req, "pod does not exist")
	if !ok {
		return
	}
	portforward.ServePortForward(w, req, rt, podKey, "", opts, idleTimeout, streamCreationTimeout, portforward.SupportedProtocols)
}

// selfSignedCertificate makes the serving certificate. kube-apiserver started without
// --kubelet-certificate-authority does not verify kubelets' certificates, as with a real cluster
// whose kubelets use self-signed ones.
func selfSignedCertificate() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "fakekubelet"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
