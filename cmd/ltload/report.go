package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is what a run measured; -json prints it as is. Durations are in
// milliseconds, memory in bytes.
type Result struct {
	Streams    int            `json:"streams"`
	Actions    int            `json:"actions"`
	Fired      int            `json:"actions_fired"`
	Interval   float64        `json:"interval_ms"`
	ServerPID  int            `json:"server_pid"`
	ServerAddr string         `json:"server_addr"`
	Server     string         `json:"server"`    // what served the streams: "lt", "lt, streams in their handlers" or the bare writer
	Baseline   bool           `json:"baseline"`  // the bare writer: this machine's floor, no lt
	ClientGC   bool           `json:"client_gc"` // the clients' collector ran during the actions (-client-gc)
	NoFile     uint64         `json:"rlimit_nofile"`
	LoadBefore string         `json:"loadavg_before"` // /proc/loadavg: 1, 5, 15 min
	LoadAfter  string         `json:"loadavg_after"`
	Open       openResult     `json:"open"`
	Memory     memoryResult   `json:"memory"`
	Gzip       bool           `json:"gzip"` // gzipped streams (-gzip)
	Wire       wireResult     `json:"wire"`
	Delivery   deliveryResult `json:"delivery"`
	PerAction  []actionResult `json:"per_action"`
	FanOut     fanOutResult   `json:"fan_out"`
	CPU        cpuResult      `json:"cpu_actions_phase"`
	Targets    targetResult   `json:"targets"`
}

type openResult struct {
	Opened     int     `json:"opened"`
	Failed     int     `json:"failed"`
	Duration   float64 `json:"duration_ms"` // first open started to last render received
	Rate       float64 `json:"per_second"`
	Each       latency `json:"each"` // one stream: request to first render
	FirstError string  `json:"first_error,omitempty"`
}

type memoryResult struct {
	Before         serverStats  `json:"before"`        // no stream
	Idle           serverStats  `json:"idle"`          // all streams open, idle
	AfterActions   serverStats  `json:"after_actions"` // all streams open, every action delivered
	IdlePerStream  perStreamMem `json:"idle_per_stream"`
	AfterPerStream perStreamMem `json:"after_actions_per_stream"`
}

// perStreamMem is a difference of server stats divided by the streams.
type perStreamMem struct {
	HeapInuse  float64 `json:"heap_inuse"`
	StackInuse float64 `json:"stack_inuse"`
	RSS        float64 `json:"rss"`
	Goroutines float64 `json:"goroutines"`
}

// wireResult is what the clients read from their sockets, before any
// inflating: the response heads, events and heartbeats as sent.
type wireResult struct {
	ActionsPhase int64   `json:"actions_phase_bytes"` // during the actions, all streams
	PerUpdate    float64 `json:"per_update_bytes"`    // ActionsPhase / updates delivered
}

type latency struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

type deliveryResult struct {
	Expected         int     `json:"expected"` // opened streams × actions fired
	Delivered        int     `json:"delivered"`
	Dropped          int     `json:"dropped"`
	ResyncRenders    int     `json:"resync_renders"` // render events after a stream's first
	ResyncedStreams  int     `json:"resynced_streams"`
	StreamErrors     int     `json:"stream_errors"` // streams the server or network ended
	Heartbeats       int     `json:"heartbeats"`    // hb events received
	OtherEvents      int     `json:"other_events"`
	FirstStreamError string  `json:"first_stream_error,omitempty"`
	Latency          latency `json:"latency"` // receive time - TriggerAll start
	TriggerP50       float64 `json:"trigger_call_p50_ms"`
	TriggerMax       float64 `json:"trigger_call_max_ms"`
}

// fanOutResult compares the first action after the streams opened with
// the later ones: the time from TriggerAll to the last stream's delivery,
// and that divided by the streams (wall time per delivery).
type fanOutResult struct {
	FirstMs            float64 `json:"first_ms"`
	LaterMedianMs      float64 `json:"later_median_ms"`
	FirstPerDeliveryUs float64 `json:"first_per_delivery_us"`
	LaterPerDeliveryUs float64 `json:"later_per_delivery_us"`
	FirstOverLater     float64 `json:"first_over_later"`
	// The server's CPU time per delivery over the actions phase.
	ServerCPUPerDeliveryUs float64 `json:"server_cpu_per_delivery_us"`
}

type actionResult struct {
	N         int     `json:"n"`
	Trigger   float64 `json:"trigger_call_ms"` // how long TriggerAll took
	Delivered int     `json:"delivered"`
	Latency   latency `json:"latency"`
}

type cpuResult struct {
	Wall    float64 `json:"wall_ms"`
	Server  float64 `json:"server_cpu_ms"`
	Clients float64 `json:"clients_cpu_ms"`  // this process: the N clients and the driver
	Machine float64 `json:"machine_busy_ms"` // every process on the machine, ltload included
	// The server's garbage collections during the phase, and the bytes it
	// allocated then: a collection that lands in a fan-out shows in that
	// action's p99.
	ServerGCs   uint32 `json:"server_gcs"`
	ServerAlloc uint64 `json:"server_alloc_bytes"`
}

// targetResult compares with DESIGN.md section 9.
type targetResult struct {
	P99Ms        float64 `json:"p99_target_ms"`
	P99OK        bool    `json:"p99_ok"`
	PerStreamKiB float64 `json:"memory_target_kib"`
	RSSOK        bool    `json:"rss_per_idle_stream_ok"`
	HeapStackOK  bool    `json:"heap_and_stack_per_idle_stream_ok"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// percentiles of latencies in ns (sorted in place), nearest rank.
func percentiles(ns []int64) latency {
	if len(ns) == 0 {
		return latency{}
	}
	slices.Sort(ns)
	rank := func(p float64) float64 {
		i := max(int(math.Ceil(p*float64(len(ns))))-1, 0)
		return ms(time.Duration(ns[i]))
	}
	return latency{Count: len(ns), P50: rank(0.50), P99: rank(0.99), Max: ms(time.Duration(ns[len(ns)-1]))}
}

func summarizeOpen(all []*stream, n int, took time.Duration) openResult {
	o := openResult{Duration: ms(took)}
	var each []int64
	for _, s := range all {
		if s.openErr != nil {
			o.Failed++
			if o.FirstError == "" {
				o.FirstError = s.openErr.Error()
			}
			continue
		}
		o.Opened++
		each = append(each, int64(s.openDur))
	}
	o.Failed += n - len(all) // never started: the run ended first
	o.Each = percentiles(each)
	if took > 0 {
		o.Rate = float64(o.Opened) / took.Seconds()
	}
	return o
}

func perStream(a, b serverStats, n int) perStreamMem {
	if n == 0 {
		return perStreamMem{}
	}
	d := func(x, y uint64) float64 { return (float64(y) - float64(x)) / float64(n) }
	return perStreamMem{
		HeapInuse: d(a.HeapInuse, b.HeapInuse), StackInuse: d(a.StackInuse, b.StackInuse), RSS: d(a.RSS, b.RSS),
		Goroutines: float64(b.Goroutines-a.Goroutines) / float64(n),
	}
}

// summarize ends the streams and tallies their deliveries.
func (r *Result) summarize(ss *streamSet, triggers []triggerResult) {
	ss.close()
	r.Fired = len(triggers)
	per := make([][]int64, r.Fired)
	d := &r.Delivery
	for _, s := range ss.all {
		if s.openErr != nil {
			continue
		}
		if s.renders > 1 {
			d.ResyncedStreams++
			d.ResyncRenders += s.renders - 1
		}
		if s.err != nil {
			d.StreamErrors++
			if d.FirstStreamError == "" {
				d.FirstStreamError = s.err.Error()
			}
		}
		d.OtherEvents += s.others
		d.Heartbeats += s.beats
		for k := range r.Fired {
			if s.lat[k] >= 0 {
				per[k] = append(per[k], s.lat[k])
			} else {
				d.Dropped++
			}
		}
	}
	d.Expected = r.Open.Opened * r.Fired
	var all, trig []int64
	r.PerAction = make([]actionResult, r.Fired)
	for k, t := range triggers {
		all = append(all, per[k]...)
		trig = append(trig, t.Trigger)
		r.PerAction[k] = actionResult{N: t.N, Trigger: ms(time.Duration(t.Trigger)), Delivered: len(per[k]), Latency: percentiles(per[k])}
	}
	d.Delivered = len(all)
	if d.Delivered > 0 {
		r.Wire.PerUpdate = float64(r.Wire.ActionsPhase) / float64(d.Delivered)
	}
	d.Latency = percentiles(all)
	r.FanOut = fanOut(r.PerAction, r.Open.Opened)
	if d.Delivered > 0 {
		r.FanOut.ServerCPUPerDeliveryUs = r.CPU.Server * 1000 / float64(d.Delivered)
	}
	tl := percentiles(trig)
	d.TriggerP50, d.TriggerMax = tl.P50, tl.Max
	r.Targets = targetResult{P99Ms: 100, PerStreamKiB: 8} // DESIGN.md section 9; the p99 target proper is a ratio (-compare)
	r.Targets.P99OK = d.Latency.Count > 0 && d.Latency.P99 < r.Targets.P99Ms && d.Dropped == 0
	m := r.Memory.IdlePerStream
	r.Targets.RSSOK = m.RSS <= r.Targets.PerStreamKiB*1024
	r.Targets.HeapStackOK = m.HeapInuse+m.StackInuse <= r.Targets.PerStreamKiB*1024
}

// fanOut is the first action's fan-out against the median of the later
// ones'.
func fanOut(per []actionResult, streams int) fanOutResult {
	var f fanOutResult
	if len(per) == 0 || streams == 0 {
		return f
	}
	f.FirstMs = per[0].Latency.Max
	f.FirstPerDeliveryUs = f.FirstMs * 1000 / float64(streams)
	if len(per) > 1 {
		later := make([]float64, 0, len(per)-1)
		for _, a := range per[1:] {
			later = append(later, a.Latency.Max)
		}
		slices.Sort(later)
		f.LaterMedianMs = later[len(later)/2]
		f.LaterPerDeliveryUs = f.LaterMedianMs * 1000 / float64(streams)
		if f.LaterMedianMs > 0 {
			f.FirstOverLater = f.FirstMs / f.LaterMedianMs
		}
	}
	return f
}

func kib(b float64) string { return fmt.Sprintf("%.1f KiB", b/1024) }
func mib(b uint64) string  { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
func fms(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.2f ms", v)
	}
	return fmt.Sprintf("%.1f ms", v)
}

// print writes the summary table.
func (r *Result) print(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("ltload: %d streams, %d actions (%d fired) at least %s apart; server pid %d on %s; RLIMIT_NOFILE %d",
		r.Streams, r.Actions, r.Fired, fms(r.Interval), r.ServerPID, r.ServerAddr, r.NoFile)
	p("server    %s", r.Server)
	if r.ClientGC {
		p("clients   collector on during the actions (-client-gc)")
	} else {
		p("clients   collector paused during the actions (the instrument's own pauses are not server latency; -client-gc keeps it)")
	}
	p("")
	o := r.Open
	p("open      %d/%d streams in %.2f s (%.0f/s); one stream p50 %s, p99 %s, max %s; %d failed",
		o.Opened, r.Streams, o.Duration/1000, o.Rate, fms(o.Each.P50), fms(o.Each.P99), fms(o.Each.Max), o.Failed)
	if o.FirstError != "" {
		p("          first failure: %s", o.FirstError)
	}
	m := r.Memory
	p("memory    per idle stream: heap %s + stacks %s = %s; RSS %s; %.2f goroutines",
		kib(m.IdlePerStream.HeapInuse), kib(m.IdlePerStream.StackInuse), kib(m.IdlePerStream.HeapInuse+m.IdlePerStream.StackInuse),
		kib(m.IdlePerStream.RSS), m.IdlePerStream.Goroutines)
	p("          server before: heap %s, stacks %s, RSS %s; idle: heap %s, stacks %s, RSS %s, %d streams",
		mib(m.Before.HeapInuse), mib(m.Before.StackInuse), mib(m.Before.RSS), mib(m.Idle.HeapInuse), mib(m.Idle.StackInuse), mib(m.Idle.RSS), m.Idle.Streams)
	if m.AfterActions.RSS > 0 {
		p("          after the actions, per stream: heap %s + stacks %s; RSS %s",
			kib(m.AfterPerStream.HeapInuse), kib(m.AfterPerStream.StackInuse), kib(m.AfterPerStream.RSS))
	}
	d := r.Delivery
	p("delivery  %d/%d delivered, %d dropped, %d resync renders (%d streams), %d stream errors; %d heartbeats, %d other events",
		d.Delivered, d.Expected, d.Dropped, d.ResyncRenders, d.ResyncedStreams, d.StreamErrors, d.Heartbeats, d.OtherEvents)
	if d.FirstStreamError != "" {
		p("          first stream error: %s", d.FirstStreamError)
	}
	p("wire      %.1f B read from the sockets per delivered update during the actions (%d B in all, before inflating; heartbeats included)",
		r.Wire.PerUpdate, r.Wire.ActionsPhase)
	p("latency   p50 %s, p99 %s, max %s (receive time - TriggerAll start, all deliveries)", fms(d.Latency.P50), fms(d.Latency.P99), fms(d.Latency.Max))
	if f := r.FanOut; f.FirstMs > 0 {
		p("fan-out   first action %s to the last stream (%.1f µs per delivery), later ones median %s (%.1f µs); first/later %.2f; server CPU %.1f µs per delivery",
			fms(f.FirstMs), f.FirstPerDeliveryUs, fms(f.LaterMedianMs), f.LaterPerDeliveryUs, f.FirstOverLater, f.ServerCPUPerDeliveryUs)
	}
	p("trigger   the TriggerAll call took p50 %s, max %s", fms(d.TriggerP50), fms(d.TriggerMax))
	if r.CPU.Wall > 0 {
		p("cpu       actions phase %.2f s: server %.2f s CPU, clients (this process) %.2f s CPU, other processes %.2f s CPU",
			r.CPU.Wall/1000, r.CPU.Server/1000, r.CPU.Clients/1000, max(0, r.CPU.Machine-r.CPU.Server-r.CPU.Clients)/1000)
	}
	if r.CPU.Wall > 0 && d.Delivered > 0 {
		p("gc        server: %d collections during the actions; %d B allocated per delivery",
			r.CPU.ServerGCs, r.CPU.ServerAlloc/uint64(d.Delivered))
	}
	if r.LoadBefore != "" {
		p("machine   load average before %s, after %s", r.LoadBefore, r.LoadAfter)
	}
	p("")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "action\ttrigger call\tdelivered\tp50\tp99\tmax\t")
	for _, a := range r.PerAction {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t\n", a.N, fms(a.Trigger), a.Delivered, fms(a.Latency.P50), fms(a.Latency.P99), fms(a.Latency.Max))
	}
	_ = tw.Flush()
	p("")
	t := r.Targets
	p("targets   one TriggerAll reaching all, p99 < %.0f ms: %s", t.P99Ms, verdict(t.P99OK, d.Latency.P99, t.P99Ms, "ms"))
	p("          ≤ %.0f KiB server memory per idle stream: RSS %s, heap+stacks %s",
		t.PerStreamKiB, verdict(t.RSSOK, m.IdlePerStream.RSS/1024, t.PerStreamKiB, "KiB"),
		verdict(t.HeapStackOK, (m.IdlePerStream.HeapInuse+m.IdlePerStream.StackInuse)/1024, t.PerStreamKiB, "KiB"))
	if r.Streams < 10000 {
		p("          (the targets are for 10,000 streams; this run has %d)", r.Streams)
	}
}

func verdict(ok bool, v, target float64, unit string) string {
	if ok {
		return fmt.Sprintf("%.1f %s, met", v, unit)
	}
	over := strings.TrimSuffix(fmt.Sprintf("%.1f", v-target), ".0")
	return fmt.Sprintf("%.1f %s, MISSED by %s %s (%.1fx)", v, unit, over, unit, v/target)
}
