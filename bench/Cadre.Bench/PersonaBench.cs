using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Cadre.Bench;

/// <summary>
/// Seeds a workspace with many personas, then measures list, filter, search, get and create over
/// HTTP, each against the bare Kestrel JSON endpoint measured the same way in the same run (GET
/// /healthz is an extra row).
/// </summary>
public static class PersonaBench
{
    private const int Warmup = 200;

    public static async Task<Figures> RunAsync(BenchServer server, BareHttpServer bare, BenchSettings settings, TextWriter output)
    {
        var figures = new Figures("Persona search", Figures.DatabaseOf(settings.Database));
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = settings.Concurrency, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var client = new HttpClient(handler) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", server.AdminKey);
        var workspace = "bench-" + DateTime.UtcNow.ToString("HHmmss", CultureInfo.InvariantCulture);
        (await client.PostAsJsonAsync("/api/v1/workspaces", new { name = workspace })).EnsureSuccessStatusCode();
        var personas = $"/api/v1/workspaces/{workspace}/personas";

        var random = new Random(42);
        var words = Vocabulary(random, 3000);
        var seeded = Stopwatch.StartNew();
        for (var first = 0; first < settings.Personas; first += 500)
        {
            var batch = Enumerable.Range(first, Math.Min(500, settings.Personas - first)).Select(i => Persona(i, words, random)).ToList();
            var response = await client.PostAsJsonAsync($"{personas}/bulk-create", new { items = batch });
            response.EnsureSuccessStatusCode();
            var failed = (await response.Content.ReadFromJsonAsync<JsonObject>())!["results"]!.AsArray().Count(r => (int)r!["status"]! != 201);
            if (failed > 0)
            {
                throw new InvalidOperationException($"{failed} personas of a seed batch were refused.");
            }
        }

        output.WriteLine($"seeded {settings.Personas} personas in {seeded.Elapsed.TotalSeconds:F1} s ({(settings.Database is null ? "SQLite" : "PostgreSQL")}); " +
            $"{settings.Requests} requests per scenario, {settings.Concurrency} at a time");

        var scenarios = new (string Name, Func<int, HttpRequestMessage> Request, int Requests)[]
        {
            ("bare Kestrel JSON (baseline)", _ => new(HttpMethod.Get, bare.Address), settings.Requests),
            ("GET /healthz", _ => new(HttpMethod.Get, "/healthz"), settings.Requests),
            ("get by name", i => new(HttpMethod.Get, $"{personas}/persona-{Pick(i, settings.Personas):D5}"), settings.Requests),
            ("get, unknown name (404)", i => new(HttpMethod.Get, $"{personas}/missing-{i}"), settings.Requests),
            ("list, first page of 50", _ => new(HttpMethod.Get, $"{personas}?limit=50"), settings.Requests),
            ("list by tag, sorted by name", i => new(HttpMethod.Get, $"{personas}?limit=50&tag=tag-{i % 30}&sort=name"), settings.Requests),
            ("search one word", i => new(HttpMethod.Get, $"{personas}?limit=20&q={words[Pick(i, words.Count)]}"), settings.Requests),
            ("search two words", i => new(HttpMethod.Get, $"{personas}?limit=20&q={words[Pick(i, words.Count)]}+{words[Pick(i * 7 + 3, words.Count)]}"), settings.Requests),
            ("search 3-letter prefix", i => new(HttpMethod.Get, $"{personas}?limit=20&q={words[Pick(i, words.Count)][..3]}"), settings.Requests),
            ("create", i => new(HttpMethod.Post, personas) { Content = JsonContent.Create(Persona(settings.Personas + Warmup + i, words, new Random(i))) }, settings.Requests / 2),
        };

        // Latency is measured one request at a time (on 2 cores, concurrent requests mostly measure the queue);
        // throughput with the configured concurrency. Each pass gets its own request numbers, so creates never collide.
        var results = new List<(string Name, Measurement Latency, Measurement Load)>();
        foreach (var (name, request, count) in scenarios)
        {
            await MeasureAsync(client, i => request((2 * count) + i), Warmup, settings.Concurrency);
            var latency = await MeasureAsync(client, request, count, concurrency: 1);
            var load = await MeasureAsync(client, i => request((2 * count) + Warmup + i), count, settings.Concurrency);
            results.Add((name, latency, load));
        }

        var (_, baseLatency, baseLoad) = results[0];
        output.WriteLine();
        output.WriteLine($"{"scenario",-30} {"p50 ms",7} {"p99 ms",7} {"p99 × base",11} {$"req/s ({settings.Concurrency}×)",13} {"÷ base",7}");
        foreach (var (name, latency, load) in results)
        {
            output.WriteLine($"{name,-30} {latency.P50,7:F2} {latency.P99,7:F2} {latency.P99 / baseLatency.P99,11:F1} {load.Throughput,13:F0} {load.Throughput / baseLoad.Throughput,7:F2}");
        }

        foreach (var (name, latency, load) in results.Skip(1))
        {
            figures.Add($"{name}: p99", latency.P99, "ms", "bare Kestrel JSON p99", baseLatency.P99);
            figures.Add($"{name}: {settings.Concurrency} in flight", load.Throughput, "req/s", $"bare Kestrel JSON, {settings.Concurrency} in flight", baseLoad.Throughput);
        }

        var worstSearch = results.Where(r => r.Name.StartsWith("search", StringComparison.Ordinal)).Max(r => r.Latency.P99);
        output.WriteLine();
        output.WriteLine($"search p99, worst of the three: {worstSearch:F2} ms (target: under 20 ms with {settings.Personas} personas)");
        return figures;
    }

    private sealed record Measurement(double Throughput, double P50, double P99);

    private static async Task<Measurement> MeasureAsync(HttpClient client, Func<int, HttpRequestMessage> request, int count, int concurrency)
    {
        var latencies = new double[count];
        var next = -1;
        var elapsed = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                using var message = request(i);
                var started = Stopwatch.GetTimestamp();
                using var response = await client.SendAsync(message);
                await response.Content.LoadIntoBufferAsync();
                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (!response.IsSuccessStatusCode && response.StatusCode != System.Net.HttpStatusCode.NotFound)
                {
                    throw new InvalidOperationException($"{message.Method} {message.RequestUri} → {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                }
            }
        }));
        var seconds = elapsed.Elapsed.TotalSeconds;
        Array.Sort(latencies);
        return new Measurement(count / seconds, Percentile(latencies, 0.50), Percentile(latencies, 0.99));
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    // A spread of indexes that does not walk the table in order.
    private static int Pick(int i, int count) => (int)((uint)(i * 2_654_435_761u) % (uint)count);

    private static List<string> Vocabulary(Random random, int size)
    {
        var words = new HashSet<string>(StringComparer.Ordinal);
        while (words.Count < size)
        {
            var length = random.Next(5, 10);
            words.Add(string.Concat(Enumerable.Range(0, length).Select(_ => (char)('a' + random.Next(26)))));
        }

        return [.. words];
    }

    private static object Persona(int i, List<string> words, Random random)
    {
        string Words(int n) => string.Join(' ', Enumerable.Range(0, n).Select(_ => words[random.Next(words.Count)]));
        return new
        {
            name = $"persona-{i:D5}",
            displayName = CultureInfo.InvariantCulture.TextInfo.ToTitleCase(Words(2)),
            description = Words(12),
            instructions = $"You are {Words(3)}. " + Words(150),
            departments = new[] { $"dept-{i % 8}" },
            tags = new[] { $"tag-{i % 30}", $"tag-{(i / 30) % 30}" },
            parameters = new[] { new { name = "audience", type = "string", @default = "customers" } },
            model = new { provider = (i % 4) switch { 0 => "openai", 1 => "anthropic", 2 => "ollama", _ => "mock" }, model = "m-" + (i % 5), temperature = 0.2 },
        };
    }
}
