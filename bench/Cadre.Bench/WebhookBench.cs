using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Cadre.Bench;

/// <summary>
/// The trigger workloads (issue 8), through <c>POST /hooks/{token}</c> with sync answers:
/// W1 echo (a body <c>{"id":N,"payload":"hello"}</c> → one transform adding <c>processed: true</c> → that
/// object as the answer), and W2 chain40 and W3 fanout10 (the engine's workloads) started by
/// webhooks; then event ingestion (<c>POST …/events</c> starting one run each). Latency one request
/// at a time from this harness (every answer checked); throughput with <c>wrk</c> (closed loop,
/// 2 threads), with the bare Kestrel JSON endpoint measured the same way as the baseline (and
/// <c>GET /healthz</c> as an extra row), and raw single-row commits at the same concurrency; each after a warm-up
/// under load (up to 10 s), so the figures are the server's steady state. Afterwards the runs
/// stored are counted against the requests answered: every answered request must have its run.
/// </summary>
public static partial class WebhookBench
{
    public static async Task<Figures> RunAsync(BenchServer server, BareHttpServer bare, BenchSettings settings, TimeSpan loadDuration, TextWriter output)
    {
        var figures = new Figures(Workload, Figures.DatabaseOf(settings.Database));
        using var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", server.AdminKey);
        var workspace = "hooks-" + DateTime.UtcNow.ToString("HHmmss", CultureInfo.InvariantCulture);
        (await client.PostAsJsonAsync("/api/v1/workspaces", new { name = workspace })).EnsureSuccessStatusCode();
        var api = $"/api/v1/workspaces/{workspace}";
        var echo = new JsonObject
        {
            ["name"] = "echo",
            ["steps"] = new JsonArray(new JsonObject
            {
                ["id"] = "echo",
                ["activity"] = new JsonObject { ["uniqueIdentifier"] = "transform" },
                ["input"] = new JsonObject { ["id"] = "{{ context.body.id }}", ["payload"] = "{{ context.body.payload }}", ["processed"] = true },
            }),
        };
        var paths = new Dictionary<string, string>();
        foreach (var definition in new[] { echo, WorkflowBench.Chain40(), WorkflowBench.Fanout10() })
        {
            definition["type"] = "webhook";
            definition["trigger"] = new JsonObject { ["webhook"] = new JsonObject { ["mode"] = "sync", ["timeout"] = "30s" } };
            var name = (string)definition["name"]!;
            await Ok(await client.PostAsJsonAsync($"{api}/workflows", definition));
            await Ok(await client.PostAsync($"{api}/workflows/{name}/activate", null));
            paths[name] = (string)(await client.GetFromJsonAsync<JsonObject>($"{api}/workflows/{name}/webhook-token"))!["path"]!;
        }

        await Ok(await client.PostAsJsonAsync($"{api}/event-types", new { name = "bench.ping" }));
        await Ok(await client.PostAsJsonAsync($"{api}/workflows", new
        {
            name = "on-ping", type = "event", trigger = new { eventType = "bench.ping" },
            steps = new[] { new { id = "seen", activity = new { uniqueIdentifier = "transform" }, input = new { id = "{{ context.event.payload.id }}" } } },
        }));
        await Ok(await client.PostAsync($"{api}/workflows/on-ping/activate", null));

        output.WriteLine($"{(settings.Database is null ? "SQLite" : "PostgreSQL")}; latency one request at a time ({settings.Requests} each), throughput with wrk for {loadDuration.TotalSeconds:0} s");
        using var anonymous = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var workloads = new (string Name, string Path, int Concurrency, Func<int, string> Body, Func<int, string> Expected)[]
        {
            ("W1 echo", paths["echo"], 16, n => $$"""{"id":{{n}},"payload":"hello"}""", n => $$"""{"id":{{n}},"payload":"hello","processed":true}"""),
            ("W2 chain40", paths["chain40"], 8, n => $$"""{"id":{{n}},"counter":0}""", n => $$"""{"id":{{n}},"counter":40}"""),
            ("W3 fanout10", paths["fanout10"], 8, n => $$"""{"id":{{n}},"value":{{n % 97}}}""", n => $$"""{"id":{{n}},"branches":10,"sum":{{55 * (n % 97)}}}"""),
        };

        // The runtime keeps recompiling hot code (tiered compilation) for several seconds of load: measuring
        // before that settles measures the compiler. Each workload is loaded for the warm-up time first.
        var warmUp = TimeSpan.FromSeconds(Math.Min(10, loadDuration.TotalSeconds));
        var commits16 = await CommitRate.MeasureAsync(settings.Database, 16, TimeSpan.FromSeconds(5));
        var commits8 = await CommitRate.MeasureAsync(settings.Database, 8, TimeSpan.FromSeconds(5));
        var bareBase = new Uri(bare.Address, "/");
        Func<int, string> w1Body = n => $$"""{"id":{{n}},"payload":"hello"}""";
        var w2Body = $$"""{"id":7,"counter":0}""";
        await WrkAsync(bareBase, BareHttpServer.Path, w1Body, 16, warmUp);
        var bareLatency = await LatencyAsync(anonymous, n => Post(bare.Address.ToString(), w1Body(n)), null, settings.Requests);
        var bareLoad16 = await WrkAsync(bareBase, BareHttpServer.Path, w1Body, 16, loadDuration);
        var bareLoad8 = await WrkAsync(bareBase, BareHttpServer.Path, null, 8, loadDuration, w2Body);
        await WrkAsync(server.BaseAddress, "/healthz", null, 16, warmUp);
        var baseLatency = await LatencyAsync(anonymous, _ => new HttpRequestMessage(HttpMethod.Get, "/healthz"), null, settings.Requests);
        var baseLoad16 = await WrkAsync(server.BaseAddress, "/healthz", null, 16, loadDuration);
        var baseLoad8 = await WrkAsync(server.BaseAddress, "/healthz", null, 8, loadDuration);
        output.WriteLine();
        output.WriteLine($"{"workload",-22} {"p50 ms",7} {"p99 ms",7} {"p99 × base",10} {"wrk conc.",9} {"req/s",8} {"÷ base",7} {"wrk p50",8} {"wrk p99",8} {"non-2xx",8} {"runs ok",8}");
        output.WriteLine($"{"bare Kestrel (base)",-22} {bareLatency.P50,7:F2} {bareLatency.P99,7:F2} {"",10} {"16",9} {bareLoad16.RequestsPerSecond,8:F0} {"",7} {bareLoad16.P50,8:F2} {bareLoad16.P99,8:F2} {"",8} {"",8}");
        output.WriteLine($"{"GET /healthz",-22} {baseLatency.P50,7:F2} {baseLatency.P99,7:F2} {baseLatency.P99 / bareLatency.P99,10:F1} {"16",9} {baseLoad16.RequestsPerSecond,8:F0} {baseLoad16.RequestsPerSecond / bareLoad16.RequestsPerSecond,7:F3} {baseLoad16.P50,8:F2} {baseLoad16.P99,8:F2} {"",8} {"",8}");
        figures.Add("GET /healthz p50, one at a time", baseLatency.P50, "ms", "bare Kestrel JSON p50", bareLatency.P50);
        figures.Add("GET /healthz req/s, 16 in flight (wrk)", baseLoad16.RequestsPerSecond, "req/s", "bare Kestrel JSON, 16 in flight (wrk)", bareLoad16.RequestsPerSecond);
        foreach (var (name, path, concurrency, body, expected) in workloads)
        {
            var workflow = name.Split(' ')[1];
            var warm = await WrkAsync(server.BaseAddress, path, name.StartsWith("W1", StringComparison.Ordinal) ? body : null, concurrency, warmUp, body(7));
            await LatencyAsync(anonymous, n => Post(path, body(n)), (n, answer) => Check(name, answer, expected(n)), 50);
            var latency = await LatencyAsync(anonymous, n => Post(path, body(n)), (n, answer) => Check(name, answer, expected(n)), settings.Requests);
            var load = await WrkAsync(server.BaseAddress, path, name.StartsWith("W1", StringComparison.Ordinal) ? body : null, concurrency, loadDuration, body(7));
            var stored = (int)(await client.GetFromJsonAsync<JsonObject>($"{api}/workflows/{workflow}/runs?limit=1"))!["count"]!;
            var answered = warm.Requests - warm.Non2xx + 50 + settings.Requests + load.Requests - load.Non2xx;
            var baseLoad = concurrency == 16 ? bareLoad16 : bareLoad8;
            var commits = concurrency == 16 ? commits16 : commits8;
            figures.Add($"{name} p50, one at a time", latency.P50, "ms", "bare Kestrel JSON p50", bareLatency.P50);
            figures.Add($"{name} p99, one at a time", latency.P99, "ms", "bare Kestrel JSON p99", bareLatency.P99);
            figures.Add($"{name} req/s, {concurrency} in flight (wrk)", load.RequestsPerSecond, "req/s", $"bare Kestrel JSON, {concurrency} in flight (wrk)", baseLoad.RequestsPerSecond);
            figures.Add($"{name} runs/s, {concurrency} in flight (wrk)", load.RequestsPerSecond, "runs/s", $"single-row commits, {concurrency} connections", commits, "commits/s");
            figures.Add($"{name} runs stored, for every answered request", stored, "runs", "answered requests", answered, "requests");
            figures.Add($"{name} non-2xx answers under load", load.Non2xx, "answers");

            output.WriteLine($"{name,-22} {latency.P50,7:F2} {latency.P99,7:F2} {latency.P99 / bareLatency.P99,10:F1} {concurrency,9} {load.RequestsPerSecond,8:F0} {load.RequestsPerSecond / baseLoad.RequestsPerSecond,7:F3} {load.P50,8:F2} {load.P99,8:F2} {load.Non2xx,8} {(stored >= answered ? "yes" : $"{stored}/{answered}"),8}");
        }

        // Event ingestion: each event recorded and its run started before the answer.
        var pings = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            while (clock.Elapsed < loadDuration)
            {
                var n = Interlocked.Increment(ref pings);
                await Ok(await client.PostAsJsonAsync($"{api}/events", new { type = "bench.ping", payload = new { id = n } }));
            }
        }));
        var perSecond = pings / clock.Elapsed.TotalSeconds;
        var started = (int)(await client.GetFromJsonAsync<JsonObject>($"{api}/workflows/on-ping/runs?limit=1"))!["count"]!;
        output.WriteLine();
        output.WriteLine($"event ingestion (16 at a time, each starting one run): {perSecond:F0} events/s; {started} runs for {pings} events");
        figures.Add("event ingestion, 16 at a time, one run each", perSecond, "events/s", "single-row commits, 16 connections", commits16, "commits/s");
        return figures;
    }

    public const string Workload = "Webhooks: W1 echo, W2 chain40, W3 fanout10, events";

    private static HttpRequestMessage Post(string path, string body) =>
        new(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };

    private static void Check(string name, string answer, string expected)
    {
        if (answer != expected)
        {
            throw new InvalidOperationException($"{name}: expected {expected}, got {answer}.");
        }
    }

    private static async Task Ok(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} → {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    private static async Task<(double P50, double P99)> LatencyAsync(HttpClient client, Func<int, HttpRequestMessage> request, Action<int, string>? check, int count)
    {
        var samples = new double[count];
        for (var i = 0; i < count; i++)
        {
            using var message = request(i);
            var clock = Stopwatch.StartNew();
            using var response = await client.SendAsync(message);
            var answer = await response.Content.ReadAsStringAsync();
            samples[i] = clock.Elapsed.TotalMilliseconds;
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"{message.RequestUri} → {(int)response.StatusCode}: {answer}");
            }

            check?.Invoke(i, answer);
        }

        Array.Sort(samples);
        return (samples[(int)(0.50 * (count - 1))], samples[(int)Math.Ceiling(0.99 * (count - 1))]);
    }

    private sealed record WrkResult(double RequestsPerSecond, double P50, double P99, int Requests, int Non2xx);

    /// <summary>Runs wrk (2 threads) against <paramref name="path"/>: a GET, or a POST of <paramref name="fixedBody"/>, or of W1's body with a counter when <paramref name="body"/> is given.</summary>
    private static async Task<WrkResult> WrkAsync(Uri server, string path, Func<int, string>? body, int connections, TimeSpan duration, string? fixedBody = null)
    {
        var script = Path.GetTempFileName();
        await File.WriteAllTextAsync(script, body is not null
            ? """
              counter = 0
              request = function()
                counter = counter + 1
                return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, '{"id":' .. counter .. ',"payload":"hello"}')
              end
              """
            : fixedBody is not null
                ? $$"""
                  wrk.method = "POST"
                  wrk.headers["Content-Type"] = "application/json"
                  wrk.body = '{{fixedBody}}'
                  """
                : "");
        try
        {
            var start = new ProcessStartInfo("wrk", ["-t2", $"-c{connections}", $"-d{(int)duration.TotalSeconds}s", "--latency", "-s", script, new Uri(server, path).ToString()])
            {
                RedirectStandardOutput = true,
            };
            using var process = Process.Start(start) ?? throw new InvalidOperationException("wrk did not start (apt-get install wrk).");
            var text = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            return new WrkResult(
                double.Parse(RequestsPerSecond().Match(text).Groups[1].Value, CultureInfo.InvariantCulture),
                Milliseconds(Percentile(50).Match(text)),
                Milliseconds(Percentile(99).Match(text)),
                int.Parse(Requests().Match(text).Groups[1].Value, CultureInfo.InvariantCulture),
                NonSuccess().Match(text) is { Success: true } non ? int.Parse(non.Groups[1].Value, CultureInfo.InvariantCulture) : 0);
        }
        finally
        {
            File.Delete(script);
        }
    }

    private static Regex Percentile(int percent) => new($@"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);

    private static double Milliseconds(Match match)
    {
        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"(\d+) requests in")]
    private static partial Regex Requests();

    [GeneratedRegex(@"Non-2xx or 3xx responses: (\d+)")]
    private static partial Regex NonSuccess();
}
