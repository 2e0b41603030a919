using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Cadre.Bench;

/// <summary>
/// The engine's workloads (issue 6), each run started with <c>POST …/runs?wait=30s</c> and answered
/// with its final output, every run persisted, every answer checked:
/// W2 chain40 (40 sequential transforms), W3 fanout10 (10 parallel branches and a merge), and the
/// engine's overhead per side-effecting step (20 http steps against a local no-op server, minus the
/// same 20 calls made directly, over 20). Latency one request at a time; throughput closed-loop.
/// Baselines: the bare Kestrel JSON endpoint driven by the same client the same way (latency and
/// throughput), and raw single-row commits at the same concurrency (runs/s and steps/s).
/// </summary>
public static class WorkflowBench
{
    public static async Task<Figures> RunAsync(BenchServer server, NoopServer noop, BareHttpServer bare, BenchSettings settings, TimeSpan loadDuration, TextWriter output)
    {
        var figures = new Figures("W2 chain40 and W3 fanout10", Figures.DatabaseOf(settings.Database));
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = settings.Concurrency, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var client = new HttpClient(handler) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", server.AdminKey);
        var workspace = "bench-" + DateTime.UtcNow.ToString("HHmmss", CultureInfo.InvariantCulture);
        (await client.PostAsJsonAsync("/api/v1/workspaces", new { name = workspace })).EnsureSuccessStatusCode();
        var workflows = $"/api/v1/workspaces/{workspace}/workflows";
        foreach (var definition in new[] { Chain40(), Fanout10(), HttpChain(noop.Address) })
        {
            var created = await client.PostAsJsonAsync(workflows, definition);
            if (!created.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"Creating {definition["name"]} → {(int)created.StatusCode}: {await created.Content.ReadAsStringAsync()}");
            }
        }

        output.WriteLine($"{(settings.Database is null ? "SQLite" : "PostgreSQL")}; latency one run at a time ({settings.Requests} runs), throughput {settings.Concurrency} at a time for {loadDuration.TotalSeconds:0} s");
        var commits = await CommitRate.MeasureAsync(settings.Database, settings.Concurrency, TimeSpan.FromSeconds(5));
        HttpRequestMessage Bare(int n) => new(HttpMethod.Get, bare.Address);
        await MeasureAsync(client, Bare, _ => { }, 200, settings.Concurrency);
        var bareLatency = await MeasureAsync(client, Bare, _ => { }, settings.Requests, 1);
        var bareLoad = await MeasureForAsync(client, Bare, _ => { }, loadDuration, settings.Concurrency, offset: 0);
        var baseline = await MeasureAsync(client, _ => new HttpRequestMessage(HttpMethod.Get, "/healthz"), _ => { }, settings.Requests, 1);
        figures.Add("GET /healthz p50", baseline.P50, "ms", "bare Kestrel JSON p50", bareLatency.P50);
        var w2 = Workload(client, workflows, "chain40", n => new { id = n, counter = 0 }, (n, output) => Expect(output, $$"""{"id":{{n}},"counter":40}"""));
        var w3 = Workload(client, workflows, "fanout10", n => new { id = n, value = n % 97 }, (n, output) => Expect(output, $$"""{"id":{{n}},"branches":10,"sum":{{55 * (n % 97)}}}"""));
        var rows = new List<(string Name, Measurement Latency, Measurement? Load)> { ("bare Kestrel JSON (baseline)", bareLatency, bareLoad), ("GET /healthz", baseline, null) };
        foreach (var (name, request, check, steps) in new[] { ("W2 chain40", w2.Request, w2.Check, 40), ("W3 fanout10", w3.Request, w3.Check, 11) })
        {
            await MeasureAsync(client, request, check, 50, settings.Concurrency);
            var latency = await MeasureAsync(client, request, check, settings.Requests, 1, offset: 1_000_000);
            var load = await MeasureForAsync(client, request, check, loadDuration, settings.Concurrency, offset: 2_000_000);
            rows.Add((name, latency, load));
            var concurrency = settings.Concurrency;
            figures.Add($"{name} p50, one at a time", latency.P50, "ms", "bare Kestrel JSON p50", bareLatency.P50);
            figures.Add($"{name} p99, one at a time", latency.P99, "ms", "bare Kestrel JSON p99", bareLatency.P99);
            figures.Add($"{name} runs/s, {concurrency} in flight", load.Throughput, "runs/s", $"bare Kestrel JSON, {concurrency} in flight", bareLoad.Throughput, "req/s");
            figures.Add($"{name} runs/s, {concurrency} in flight", load.Throughput, "runs/s", $"single-row commits, {concurrency} connections", commits, "commits/s");
            figures.Add($"{name} steps/s, {concurrency} in flight", load.Throughput * steps, "steps/s", $"single-row commits, {concurrency} connections", commits, "commits/s");
        }

        output.WriteLine();
        output.WriteLine($"{"workload",-26} {"p50 ms",7} {"p99 ms",7} {"p50 × base",11} {$"runs/s ({settings.Concurrency}×)",14}");
        foreach (var (name, latency, load) in rows)
        {
            output.WriteLine($"{name,-26} {latency.P50,7:F2} {latency.P99,7:F2} {latency.P50 / bareLatency.P50,11:F1} {(load is null ? "" : load.Throughput.ToString("F0", CultureInfo.InvariantCulture)),14}");
        }

        // Overhead per side-effecting step: the same 20 calls, through the engine and directly.
        var http = Workload(client, workflows, "http20", n => new { id = n }, (_, output) => Expect(output, """{"status":200}"""));
        await MeasureAsync(client, http.Request, http.Check, 20, 1);
        var engine = await MeasureAsync(client, http.Request, http.Check, settings.Requests / 2, 1, offset: 3_000_000);
        using var direct = new HttpClient();
        var calls = await MeasureAsync(direct, _ => new HttpRequestMessage(HttpMethod.Get, noop.Address), _ => { }, settings.Requests / 2, 1, repeat: 20);
        var perStep = (engine.P50 - calls.P50) / 20;
        output.WriteLine();
        output.WriteLine($"http20: p50 {engine.P50:F2} ms through the engine, {calls.P50:F2} ms for the same 20 calls made directly");
        output.WriteLine($"engine overhead per side-effecting step: {perStep:F3} ms (p50; target under 1 ms)");
        figures.Add("20 `http` steps, run p50", engine.P50, "ms", "the same 20 calls made directly, p50", calls.P50);
        figures.Add("overhead per side-effecting step, p50", perStep, "ms");
        return figures;
    }

    private static (Func<int, HttpRequestMessage> Request, Action<JsonObject> Check) Workload(
        HttpClient client, string workflows, string name, Func<int, object> input, Action<int, JsonNode?> expect) =>
        (n => new HttpRequestMessage(HttpMethod.Post, $"{workflows}/{name}/runs?wait=30s") { Content = JsonContent.Create(new { input = input(n) }) },
         run =>
         {
             if ((string?)run["status"] != "succeeded")
             {
                 throw new InvalidOperationException($"{name}: run {run["id"]} ended {run["status"]}: {run["error"]?.ToJsonString()}");
             }

             expect((int)run["input"]!["id"]!, run["output"]);
         });

    private static void Expect(JsonNode? output, string expected)
    {
        if (output?.ToJsonString() != expected)
        {
            throw new InvalidOperationException($"Expected {expected}, got {output?.ToJsonString() ?? "null"}.");
        }
    }

    internal static JsonObject Chain40() => new()
    {
        ["name"] = "chain40",
        ["steps"] = new JsonArray([.. Enumerable.Range(1, 40).Select(i => (JsonNode)new JsonObject
        {
            ["id"] = $"s{i}",
            ["activity"] = new JsonObject { ["uniqueIdentifier"] = "transform" },
            ["dependsOn"] = i == 1 ? new JsonArray() : new JsonArray($"s{i - 1}"),
            ["input"] = new JsonObject
            {
                ["id"] = i == 1 ? "{{ context.body.id }}" : $"{{{{ steps.s{i - 1}.output.id }}}}",
                ["counter"] = i == 1 ? "{{ context.body.counter + 1 }}" : $"{{{{ steps.s{i - 1}.output.counter + 1 }}}}",
            },
        })]),
    };

    internal static JsonObject Fanout10() => new()
    {
        ["name"] = "fanout10",
        ["steps"] = new JsonArray([
            .. Enumerable.Range(1, 10).Select(i => (JsonNode)new JsonObject
            {
                ["id"] = $"b{i}",
                ["activity"] = new JsonObject { ["uniqueIdentifier"] = "transform" },
                ["input"] = new JsonObject { ["v"] = $"{{{{ context.body.value * {i} }}}}" },
            }),
            new JsonObject
            {
                ["id"] = "merge",
                ["activity"] = new JsonObject { ["uniqueIdentifier"] = "transform" },
                ["dependsOn"] = new JsonArray([.. Enumerable.Range(1, 10).Select(i => (JsonNode)$"b{i}")]),
                ["input"] = new JsonObject
                {
                    ["id"] = "{{ context.body.id }}",
                    ["branches"] = 10,
                    ["sum"] = "{{ " + string.Join(" + ", Enumerable.Range(1, 10).Select(i => $"steps.b{i}.output.v")) + " }}",
                },
            },
        ]),
    };

    private static JsonObject HttpChain(Uri noop) => new()
    {
        ["name"] = "http20",
        ["steps"] = new JsonArray([
            .. Enumerable.Range(1, 20).Select(i => (JsonNode)new JsonObject
            {
                ["id"] = $"h{i}",
                ["activity"] = new JsonObject { ["uniqueIdentifier"] = "http" },
                ["dependsOn"] = i == 1 ? new JsonArray() : new JsonArray($"h{i - 1}"),
                ["input"] = new JsonObject { ["url"] = noop.ToString() },
                ["retryPolicy"] = new JsonObject { ["maximumAttempts"] = 1 },
            }),
            new JsonObject
            {
                ["id"] = "done",
                ["activity"] = new JsonObject { ["uniqueIdentifier"] = "transform" },
                ["dependsOn"] = new JsonArray("h20"),
                ["input"] = new JsonObject { ["status"] = "{{ steps.h20.output.status }}" },
            },
        ]),
    };

    private sealed record Measurement(double Throughput, double P50, double P99);

    private static async Task<Measurement> MeasureAsync(
        HttpClient client, Func<int, HttpRequestMessage> request, Action<JsonObject> check, int count, int concurrency, int offset = 0, int repeat = 1)
    {
        var latencies = new double[count];
        var next = -1;
        var elapsed = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                latencies[i] = await TimeOneAsync(client, () => request(offset + i), check, repeat);
            }
        }));
        var seconds = elapsed.Elapsed.TotalSeconds;
        Array.Sort(latencies);
        return new Measurement(count / seconds, Percentile(latencies, 0.50), Percentile(latencies, 0.99));
    }

    /// <summary>A closed loop: each of <paramref name="concurrency"/> clients starts its next run when its last one answered.</summary>
    private static async Task<Measurement> MeasureForAsync(
        HttpClient client, Func<int, HttpRequestMessage> request, Action<JsonObject> check, TimeSpan duration, int concurrency, int offset)
    {
        var latencies = new List<double>();
        var next = -1;
        var elapsed = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (elapsed.Elapsed < duration)
            {
                var i = Interlocked.Increment(ref next);
                var latency = await TimeOneAsync(client, () => request(offset + i), check, 1);
                lock (latencies)
                {
                    latencies.Add(latency);
                }
            }
        }));
        var seconds = elapsed.Elapsed.TotalSeconds;
        var sorted = latencies.Order().ToArray();
        return new Measurement(sorted.Length / seconds, Percentile(sorted, 0.50), Percentile(sorted, 0.99));
    }

    private static async Task<double> TimeOneAsync(HttpClient client, Func<HttpRequestMessage> request, Action<JsonObject> check, int repeat)
    {
        var started = Stopwatch.GetTimestamp();
        for (var r = 0; r < repeat; r++)
        {
            using var message = request();
            using var response = await client.SendAsync(message);
            var body = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"{message.Method} {message.RequestUri} → {(int)response.StatusCode}: {body}");
            }

            if (response.Content.Headers.ContentType?.MediaType == "application/json" && body.StartsWith('{') && JsonNode.Parse(body) is JsonObject run && run.ContainsKey("status"))
            {
                check(run);
            }
        }

        return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}

/// <summary>A local HTTP server that answers 200 with an empty body at once: the far end of the http steps.</summary>
public sealed class NoopServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();

    public NoopServer()
    {
        var port = BenchServer.FreePort();
        Address = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Address.ToString());
        _listener.Start();
        for (var i = 0; i < Environment.ProcessorCount * 2; i++)
        {
            _ = Task.Run(AnswerAsync);
        }
    }

    public Uri Address { get; }

    private async Task AnswerAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            context.Response.StatusCode = 200;
            context.Response.ContentLength64 = 0;
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Close();
        _stop.Dispose();
    }
}
