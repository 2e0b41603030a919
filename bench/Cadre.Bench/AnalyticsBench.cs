using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Cadre.Bench;

/// <summary>
/// Analytics of one workflow with a million runs (issue 10): the workspace, a persona and the workflow
/// are made through the API; the runs' rows and the facts their commits would have written are put
/// into the database with the server stopped; the restarted server's own drain folds the facts into
/// rollups (timed: the fold rate), so the rollups are what production would hold. Then each analytics
/// endpoint is timed one request at a time and 4 at a time, with every fact folded and again with
/// about 5 000 facts waiting to be folded, against the bare Kestrel JSON endpoint measured the same
/// way in the same run (<c>GET /healthz</c> is an extra row).
/// </summary>
public static class AnalyticsBench
{
    private const int Warmup = 20;
    private const int PendingRuns = 2_000;

    public static async Task<Figures> RunAsync(BenchSettings settings, BareHttpServer bare, int runs, TextWriter output)
    {
        var figures = new Figures("Analytics", Figures.DatabaseOf(settings.Database));
        var engine = settings.Database is null ? "SQLite" : "PostgreSQL";
        var server = await BenchServer.StartAsync(settings);
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 8, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var setup = Client(handler, server);
        const string workspace = "bench-analytics";
        var workspaceId = await CreateAsync(setup, "/api/v1/workspaces", new { name = workspace });
        var api = $"/api/v1/workspaces/{workspace}";
        var personaId = await CreateAsync(setup, $"{api}/personas", new { name = "reviewer", instructions = "You review support answers." });
        var workflowId = await CreateAsync(setup, $"{api}/workflows", new JsonObject
        {
            ["name"] = "triage",
            ["steps"] = new JsonArray(
                new JsonObject { ["id"] = "ask", ["activity"] = new JsonObject { ["uniqueIdentifier"] = "transform" }, ["input"] = new JsonObject { ["q"] = "{{ context.body.q }}" } },
                new JsonObject { ["id"] = "review", ["activity"] = new JsonObject { ["uniqueIdentifier"] = "transform" }, ["dependsOn"] = new JsonArray("ask"), ["input"] = new JsonObject { ["a"] = "{{ steps.ask.output.q }}" } }),
        });

        // Seeded with no server running, so the drain sees the whole backlog at once and nothing else writes meanwhile.
        await server.StopAsync();
        var now = DateTime.UtcNow;
        var from = now.AddDays(-400);
        var until = now.AddHours(-1);
        IEnumerable<SeedRun> Seeded() => SeedRuns.Generate(runs, from, until, personaId, 1, seed: 10);
        long facts;
        var seeding = Stopwatch.StartNew();
        await using (var store = await AnalyticsStore.OpenAsync(settings, server.DataDir))
        {
            await store.InsertRunsAsync(workspaceId, workflowId, "triage", Seeded());
            await store.InsertFactsAsync(workspaceId, workflowId, Seeded().SelectMany(r => r.Facts));
            facts = await store.CountAsync("analytics_facts");
        }

        output.WriteLine($"{engine}: seeded {runs:N0} runs and {facts:N0} facts over 400 days in {seeding.Elapsed.TotalSeconds:F0} s");
        // The fold's baseline: one writer committing row by row, as the one folder writes (measured while no server runs).
        var commits = await CommitRate.MeasureAsync(settings.Database, 1, TimeSpan.FromSeconds(5));

        var folding = Stopwatch.StartNew();
        await using var running = await server.StartAgainAsync(settings);
        await using var live = await AnalyticsStore.OpenAsync(settings, running.DataDir);
        while (await live.CountAsync("analytics_facts") > 0)
        {
            await Task.Delay(250);
        }

        var foldSeconds = folding.Elapsed.TotalSeconds;
        var rollups = await live.CountAsync("analytics_rollups");
        output.WriteLine($"folded {facts:N0} facts into {rollups:N0} rollup rows in {foldSeconds:F0} s (server start included): {facts / foldSeconds:F0} facts/s");
        output.WriteLine($"database: {await live.SizeAsync()}");
        await live.SettleAsync();

        using var client = Client(handler, running);
        await CheckAsync(client, $"{api}/workflows/triage/analytics?days=366", Seeded(), output);

        var endpoints = new (string Name, string Path)[]
        {
            ("workflow, 30 days daily", $"{api}/workflows/triage/analytics?days=30"),
            ("workflow, 365 days monthly", $"{api}/workflows/triage/analytics?days=365&granularity=monthly"),
            ("workflow, 90 days weekly, Kolkata", $"{api}/workflows/triage/analytics?days=90&granularity=weekly&timeZone=Asia/Kolkata"),
            ("persona, 30 days", $"{api}/personas/reviewer/analytics?days=30"),
            ("workspace, 30 days", $"{api}/analytics?days=30"),
            ("workflow related", $"{api}/workflows/triage/related"),
        };
        var rows = new List<(string Name, Percentiles One, Percentiles Four)>();
        async Task Measure(string name, string path, Func<string, int, int, Task<double[]>> measure)
        {
            await measure(path, Warmup, 1);
            rows.Add((name, Percentiles.Of(await measure(path, settings.Requests, 1)), Percentiles.Of(await measure(path, settings.Requests, 4))));
        }

        Task<double[]> Folded(string path, int count, int concurrency) => MeasureAsync(client, path, count, concurrency);
        await Measure("bare Kestrel JSON (baseline)", bare.Address.ToString(), Folded);
        await Measure("GET /healthz", "/healthz", Folded);
        foreach (var (name, path) in endpoints)
        {
            await Measure(name, path, Folded);
        }

        // The pending facts sit in the last quarter hour, in every window; each round of requests is kept only if the drain left them all there throughout.
        var pending = SeedRuns.Generate(PendingRuns, now.AddMinutes(-10), now, personaId, runs + 1, seed: 11).SelectMany(r => r.Facts).ToList();
        var discarded = 0;
        async Task<double[]> Pending(string path, int count, int concurrency)
        {
            var samples = new List<double>();
            while (samples.Count < count)
            {
                // The drain has just emptied the table: the next pass is up to 2 s away.
                while (await live.CountAsync("analytics_facts") > 0)
                {
                    await Task.Delay(10);
                }

                await live.InsertFactsAsync(workspaceId, workflowId, pending);
                var round = await MeasureForAsync(client, path, TimeSpan.FromMilliseconds(700), concurrency);
                if (await live.CountAsync("analytics_facts") == pending.Count)
                {
                    samples.AddRange(round);
                }
                else
                {
                    discarded += round.Length;
                }
            }

            return [.. samples.Order()];
        }

        foreach (var (name, path) in endpoints.Where(e => !e.Path.EndsWith("/related", StringComparison.Ordinal)))
        {
            await Measure($"{name}, {pending.Count} facts pending", path, Pending);
        }

        var baseline = rows[0];
        output.WriteLine();
        output.WriteLine($"{engine}; {settings.Requests} requests per pass after {Warmup} warm-ups; ratios are p50 ÷ the baseline's p50; pending rounds discarded (a fold came): {discarded} samples");
        output.WriteLine($"{"endpoint",-56} {"p50",7} {"p95",7} {"p99",7} {"× base",7} | {"4× p50",7} {"p95",7} {"p99",7} {"× base",7}");
        foreach (var (name, one, four) in rows)
        {
            output.WriteLine($"{name,-56} {one.P50,7:F2} {one.P95,7:F2} {one.P99,7:F2} {one.P50 / baseline.One.P50,7:F0} | {four.P50,7:F2} {four.P95,7:F2} {four.P99,7:F2} {four.P50 / baseline.Four.P50,7:F0}");
        }

        var worst = rows.Skip(1).Max(r => Math.Max(r.One.P99, r.Four.P99));
        output.WriteLine();
        output.WriteLine($"worst p99: {worst:F1} ms (target: analytics of a workflow with {runs:N0} runs under 100 ms)");
        figures.Add($"fold rate, {facts:N0} facts of {runs:N0} runs (server start included)", facts / foldSeconds, "facts/s", "single-row commits, 1 connection", commits, "commits/s");
        foreach (var (name, one, _) in rows.Skip(1))
        {
            figures.Add($"{name}: p50", one.P50, "ms", "bare Kestrel JSON p50", baseline.One.P50);
            figures.Add($"{name}: p99", one.P99, "ms", "bare Kestrel JSON p99", baseline.One.P99);
        }

        return figures;
    }

    private static HttpClient Client(SocketsHttpHandler handler, BenchServer server)
    {
        var client = new HttpClient(handler, disposeHandler: false) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", server.AdminKey);
        return client;
    }

    private static async Task<string> CreateAsync(HttpClient client, string path, object body)
    {
        var response = await client.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {path} → {(int)response.StatusCode}: {text}");
        }

        return (string)JsonNode.Parse(text)!["id"]!;
    }

    /// <summary>The folded rollups answer exactly what was seeded: runs by status, model calls and cost over the window.</summary>
    private static async Task CheckAsync(HttpClient client, string path, IEnumerable<SeedRun> seeded, TextWriter output)
    {
        var answer = JsonNode.Parse(await client.GetStringAsync(path))!;
        var from = (DateTime)answer["window"]!["from"]!;
        var facts = seeded.SelectMany(r => r.Facts).Where(f => f.At >= from.ToUniversalTime()).ToList();
        var expected = (Runs: facts.Count(f => f.Kind == "run"), Failed: facts.Count(f => f.Status == "failed"), Calls: facts.Count(f => f.Kind == "usage"),
            Cost: facts.Sum(f => f.CostNanos) / 1_000_000_000m);
        var kpis = answer["kpis"]!;
        var actual = (Runs: (int)kpis["runs"]!, Failed: (int)kpis["failed"]!, Calls: (int)kpis["modelCalls"]!, Cost: (decimal)kpis["costUsd"]!);
        if (actual != expected)
        {
            throw new InvalidOperationException($"{path} answered {actual}, the seeded facts give {expected}.");
        }

        output.WriteLine($"check: {path} answers {actual.Runs:N0} runs, {actual.Failed:N0} failed, {actual.Calls:N0} model calls, ${actual.Cost:N2}, as seeded; p50 {kpis["p50DurationSeconds"]} s, p95 {kpis["p95DurationSeconds"]} s");
    }

    private static async Task<double[]> MeasureAsync(HttpClient client, string path, int count, int concurrency)
    {
        var latencies = new double[count];
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                latencies[i] = await TimeOneAsync(client, path);
            }
        }));
        Array.Sort(latencies);
        return latencies;
    }

    private static async Task<double[]> MeasureForAsync(HttpClient client, string path, TimeSpan duration, int concurrency)
    {
        var latencies = new List<double>();
        var elapsed = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (elapsed.Elapsed < duration)
            {
                var latency = await TimeOneAsync(client, path);
                lock (latencies)
                {
                    latencies.Add(latency);
                }
            }
        }));
        return [.. latencies];
    }

    private static async Task<double> TimeOneAsync(HttpClient client, string path)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await client.GetAsync(path);
        await response.Content.LoadIntoBufferAsync();
        var latency = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"GET {path} → {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        return latency;
    }

    private sealed record Percentiles(double P50, double P95, double P99)
    {
        public static Percentiles Of(double[] sorted) => new(At(sorted, 0.50), At(sorted, 0.95), At(sorted, 0.99));

        private static double At(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
    }
}
