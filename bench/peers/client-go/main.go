// Command client-go-peer runs kubekit's benchmark workloads with client-go, so the bench can put
// kubekit, @kubernetes/client-node and client-go side by side on the same work in the same run.
//
//	client-go-peer <workload> [flags]
//
// Every workload prints one JSON object on its last stdout line (the informer also prints a
// {"phase":"synced"} line first, so the bench knows when to start writing). Workloads:
//
//	list-pods  -server URL                 list pods from a replay server (plain HTTP)
//	list       -kubeconfig F -namespace NS [-limit N]   list ConfigMaps (all pages)
//	get        -kubeconfig F -namespace NS -name X -n N -c C   N GETs at concurrency C
//	watch      -server URL -n N            read N watch events from a replay server
//	informer   -kubeconfig F -namespace NS -n N -run ID   sync, then wait for N updates of run ID
//	startup    -kubeconfig F -namespace NS -name X   the first GET of a fresh process
//	seed       -kubeconfig F -namespace NS -n N -c C   create N ConfigMaps (setup, not measured)
//	update     -kubeconfig F -namespace NS -n N -total T -rate R -run ID -c C   paced patches
//	encode     -in podlist.json -out-list F -out-watch F -events N   protobuf replay data
//
// Without -protobuf every request is JSON (ContentType and AcceptContentTypes application/json);
// -protobuf asks for application/vnd.kubernetes.protobuf with JSON as fallback, which is what
// client-go's typed clients do for built-in types when the config sets no content type.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/streaming"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	restwatch "k8s.io/client-go/rest/watch"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/flowcontrol"
)

const protobufType = "application/vnd.kubernetes.protobuf"

var processStart = time.Now()

type options struct {
	kubeconfig, server, namespace, name, run, in, outList, outWatch string
	limit                                                           int64
	n, c, total, events                                             int
	rate                                                            float64
	protobuf                                                        bool
}

func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: client-go-peer <workload> [flags]"))
	}
	workload := os.Args[1]
	var o options
	fs := flag.NewFlagSet(workload, flag.ExitOnError)
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file")
	fs.StringVar(&o.server, "server", "", "plain-HTTP server URL (replay server)")
	fs.StringVar(&o.namespace, "namespace", "", "namespace")
	fs.StringVar(&o.name, "name", "", "object name")
	fs.StringVar(&o.run, "run", "", "run id (informer lag)")
	fs.StringVar(&o.in, "in", "", "input file (encode)")
	fs.StringVar(&o.outList, "out-list", "", "output file for the protobuf PodList (encode)")
	fs.StringVar(&o.outWatch, "out-watch", "", "output file for the protobuf watch stream (encode)")
	fs.Int64Var(&o.limit, "limit", 0, "page size; 0 lists in one request")
	fs.IntVar(&o.n, "n", 0, "how many requests, events or objects")
	fs.IntVar(&o.c, "c", 32, "concurrency")
	fs.IntVar(&o.total, "total", 0, "how many ConfigMaps exist (update)")
	fs.IntVar(&o.events, "events", 1000, "distinct watch events (encode)")
	fs.Float64Var(&o.rate, "rate", 0, "writes per second (update)")
	fs.BoolVar(&o.protobuf, "protobuf", false, "use protobuf")
	if err := fs.Parse(os.Args[2:]); err != nil {
		fail(err)
	}
	var (
		out map[string]any
		err error
	)
	switch workload {
	case "list-pods":
		out, err = listPods(o)
	case "list":
		out, err = listConfigMaps(o)
	case "get":
		out, err = gets(o)
	case "watch":
		out, err = watchEvents(o)
	case "informer":
		out, err = informer(o)
	case "startup":
		out, err = startup(o)
	case "seed":
		out, err = seed(o)
	case "update":
		out, err = update(o)
	case "encode":
		out, err = encode(o)
	default:
		err = fmt.Errorf("unknown workload %q", workload)
	}
	if err != nil {
		fail(err)
	}
	emit(out)
}

func emit(v map[string]any) {
	b, _ := json.Marshal(v)
	os.Stdout.Write(append(b, '\n'))
}

func fail(err error) {
	emit(map[string]any{"error": err.Error()})
	os.Exit(1)
}

func config(o options) (*rest.Config, error) {
	var cfg *rest.Config
	if o.kubeconfig != "" {
		c, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
		if err != nil {
			return nil, err
		}
		cfg = c
	} else {
		cfg = &rest.Config{Host: o.server}
	}
	// Client-side rate limits off, as for every client in the bench.
	cfg.RateLimiter = flowcontrol.NewFakeAlwaysRateLimiter()
	cfg.UserAgent = "kubekit-bench/client-go"
	// client-go's typed clients prefer protobuf for built-in types when nothing is set; the bench
	// says which it wants, so the JSON column is JSON.
	if o.protobuf {
		cfg.ContentType = protobufType
		cfg.AcceptContentTypes = protobufType + ",application/json"
	} else {
		cfg.ContentType = "application/json"
		cfg.AcceptContentTypes = "application/json"
	}
	return cfg, nil
}

func clientset(o options) (*kubernetes.Clientset, error) {
	cfg, err := config(o)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// memory reads VmRSS and VmHWM (peak) from /proc/self/status, in bytes.
func memory() (rss, peak int64) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		field := func() int64 {
			parts := strings.Fields(line)
			if len(parts) < 2 {
				return 0
			}
			v, _ := strconv.ParseInt(parts[1], 10, 64)
			return v * 1024
		}
		if strings.HasPrefix(line, "VmRSS:") {
			rss = field()
		} else if strings.HasPrefix(line, "VmHWM:") {
			peak = field()
		}
	}
	return rss, peak
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func listPods(o options) (map[string]any, error) {
	cs, err := clientset(o)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	// Warm-up: the connection, and the decoder's first use.
	if _, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		return nil, err
	}
	start := time.Now()
	list, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	elapsed := time.Since(start)
	rss, peak := memory()
	return map[string]any{"ms": ms(elapsed), "items": len(list.Items), "rss": rss, "peakRss": peak}, nil
}

func listConfigMaps(o options) (map[string]any, error) {
	cs, err := clientset(o)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	api := cs.CoreV1().ConfigMaps(o.namespace)
	if _, err := api.List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		return nil, err
	}
	start := time.Now()
	var items []corev1.ConfigMap
	opts := metav1.ListOptions{Limit: o.limit}
	pages := 0
	for {
		list, err := api.List(ctx, opts)
		if err != nil {
			return nil, err
		}
		pages++
		if items == nil {
			items = list.Items
		} else {
			items = append(items, list.Items...)
		}
		if list.Continue == "" || o.limit == 0 {
			break
		}
		opts.Continue = list.Continue
	}
	elapsed := time.Since(start)
	rss, peak := memory()
	return map[string]any{"ms": ms(elapsed), "items": len(items), "pages": pages, "rss": rss, "peakRss": peak}, nil
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

func gets(o options) (map[string]any, error) {
	cs, err := clientset(o)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	api := cs.CoreV1().ConfigMaps(o.namespace)
	if _, err := api.Get(ctx, o.name, metav1.GetOptions{}); err != nil {
		return nil, err
	}
	lat := make([]float64, o.n)
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < o.c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= o.n {
					return
				}
				t := time.Now()
				if _, err := api.Get(ctx, o.name, metav1.GetOptions{}); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				lat[i] = ms(time.Since(t))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if e := firstErr.Load(); e != nil {
		return nil, e.(error)
	}
	sort.Float64s(lat)
	rss, peak := memory()
	return map[string]any{
		"ms":      ms(elapsed),
		"rps":     float64(o.n) / elapsed.Seconds(),
		"p50":     percentile(lat, 0.5),
		"p99":     percentile(lat, 0.99),
		"rss":     rss,
		"peakRss": peak,
	}, nil
}

func watchEvents(o options) (map[string]any, error) {
	cs, err := clientset(o)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		return nil, err
	}
	start := time.Now()
	w, err := cs.CoreV1().Pods("").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	defer w.Stop()
	count := 0
	for ev := range w.ResultChan() {
		if ev.Type == watch.Error {
			return nil, fmt.Errorf("watch error: %v", ev.Object)
		}
		if _, ok := ev.Object.(*corev1.Pod); !ok {
			return nil, fmt.Errorf("unexpected object %T", ev.Object)
		}
		count++
		if count >= o.n {
			break
		}
	}
	elapsed := time.Since(start)
	if count < o.n {
		return nil, fmt.Errorf("the watch ended after %d of %d events", count, o.n)
	}
	rss, peak := memory()
	return map[string]any{
		"ms":           ms(elapsed),
		"events":       count,
		"eventsPerSec": float64(count) / elapsed.Seconds(),
		"rss":          rss,
		"peakRss":      peak,
	}, nil
}

func informer(o options) (map[string]any, error) {
	cs, err := clientset(o)
	if err != nil {
		return nil, err
	}
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(o.namespace))
	inf := factory.Core().V1().ConfigMaps().Informer()
	var mu sync.Mutex
	lags := make([]float64, 0, o.n)
	done := make(chan struct{})
	_, err = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, newObj any) {
			now := time.Now().UnixNano()
			cm, ok := newObj.(*corev1.ConfigMap)
			if !ok || cm.Data["run"] != o.run {
				return
			}
			ts, err := strconv.ParseInt(cm.Data["ts"], 10, 64)
			if err != nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if len(lags) < o.n {
				lags = append(lags, float64(now-ts)/1e6)
				if len(lags) == o.n {
					close(done)
				}
			}
		},
	})
	if err != nil {
		return nil, err
	}
	stop := make(chan struct{})
	start := time.Now()
	factory.Start(stop)
	// cache.WaitForCacheSync polls every 100 ms, which would round the time up; poll finely.
	deadline := time.Now().Add(5 * time.Minute)
	for !inf.HasSynced() {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the informer did not sync")
		}
		time.Sleep(200 * time.Microsecond)
	}
	synced := time.Since(start)
	rss, peak := memory()
	objects := len(inf.GetStore().ListKeys())
	emit(map[string]any{"phase": "synced", "syncMs": ms(synced), "rssAfterSync": rss, "objects": objects})
	timeout := time.Duration(max(120, o.n/20)) * time.Second
	select {
	case <-done:
	case <-time.After(timeout):
	}
	close(stop)
	factory.Shutdown()
	mu.Lock()
	got := append([]float64(nil), lags...)
	mu.Unlock()
	sort.Float64s(got)
	_, peakAfter := memory()
	return map[string]any{
		"syncMs":       ms(synced),
		"rssAfterSync": rss,
		"peakRssSync":  peak,
		"peakRss":      peakAfter,
		"objects":      objects,
		"updates":      len(got),
		"lagP50":       percentile(got, 0.5),
		"lagP99":       percentile(got, 0.99),
		"lagMax":       percentile(got, 1),
	}, nil
}

func startup(o options) (map[string]any, error) {
	cs, err := clientset(o)
	if err != nil {
		return nil, err
	}
	if _, err := cs.CoreV1().ConfigMaps(o.namespace).Get(context.Background(), o.name, metav1.GetOptions{}); err != nil {
		return nil, err
	}
	rss, peak := memory()
	return map[string]any{"ms": ms(time.Since(processStart)), "rss": rss, "peakRss": peak}, nil
}

// seedData is the payload of every seeded ConfigMap: eight keys, about 1 KB.
func seedData(i int) map[string]string {
	data := make(map[string]string, 8)
	for k := 0; k < 8; k++ {
		data[fmt.Sprintf("key-%d", k)] = fmt.Sprintf("value %05d/%d ", i, k) + strings.Repeat(string(rune('a'+k)), 100)
	}
	return data
}

func seed(o options) (map[string]any, error) {
	cs, err := clientset(o)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	api := cs.CoreV1().ConfigMaps(o.namespace)
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < o.c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= o.n || firstErr.Load() != nil {
					return
				}
				cm := &corev1.ConfigMap{
					ObjectMeta: metav1.ObjectMeta{
						Name:   fmt.Sprintf("cm-%05d", i),
						Labels: map[string]string{"app.kubernetes.io/part-of": "kubekit-bench", "shard": strconv.Itoa(i % 16)},
					},
					Data: seedData(i),
				}
				_, err := api.Create(ctx, cm, metav1.CreateOptions{FieldManager: "kubekit-bench"})
				if err != nil && !strings.Contains(err.Error(), "already exists") {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		return nil, e.(error)
	}
	return map[string]any{"ms": ms(time.Since(start)), "created": o.n}, nil
}

func update(o options) (map[string]any, error) {
	cs, err := clientset(o)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	api := cs.CoreV1().ConfigMaps(o.namespace)
	jobs := make(chan int, o.n)
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for w := 0; w < o.c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if firstErr.Load() != nil {
					continue
				}
				patch := fmt.Sprintf(`{"data":{"run":%q,"ts":"%d"}}`, o.run, time.Now().UnixNano())
				name := fmt.Sprintf("cm-%05d", i%o.total)
				_, err := api.Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "kubekit-bench"})
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	start := time.Now()
	interval := time.Duration(float64(time.Second) / o.rate)
	for i := 0; i < o.n; i++ {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		return nil, e.(error)
	}
	elapsed := time.Since(start)
	return map[string]any{"ms": ms(elapsed), "writes": o.n, "rate": float64(o.n) / elapsed.Seconds()}, nil
}

// encode turns the replay server's JSON PodList into protobuf: the list as the API server would
// send it, and a watch stream of MODIFIED events for the first -events pods, framed as the API
// server frames protobuf watches.
func encode(o options) (map[string]any, error) {
	raw, err := os.ReadFile(o.in)
	if err != nil {
		return nil, err
	}
	info, ok := runtime.SerializerInfoForMediaType(scheme.Codecs.SupportedMediaTypes(), protobufType)
	if !ok || info.StreamSerializer == nil {
		return nil, fmt.Errorf("no protobuf serializer")
	}
	obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(raw, nil, nil)
	if err != nil {
		return nil, err
	}
	list, ok := obj.(*corev1.PodList)
	if !ok {
		return nil, fmt.Errorf("expected a PodList, got %T", obj)
	}
	enc := scheme.Codecs.EncoderForVersion(info.Serializer, corev1.SchemeGroupVersion)
	listBytes, err := runtime.Encode(enc, list)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(o.outList, listBytes, 0o644); err != nil {
		return nil, err
	}
	f, err := os.Create(o.outWatch)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriter(f)
	framed := info.StreamSerializer.Framer.NewFrameWriter(bw)
	we := restwatch.NewEncoder(streaming.NewEncoder(framed, info.StreamSerializer.Serializer), enc)
	n := min(o.events, len(list.Items))
	for i := 0; i < n; i++ {
		if err := we.Encode(&watch.Event{Type: watch.Modified, Object: &list.Items[i]}); err != nil {
			return nil, err
		}
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	st, _ := os.Stat(o.outWatch)
	return map[string]any{"listBytes": len(listBytes), "watchBytes": st.Size(), "events": n}, nil
}
