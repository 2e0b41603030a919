using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Npgsql;

namespace Cadre.Bench;

/// <summary>
/// Scale-out on one PostgreSQL (issue 9), each configuration on a database of its own:
/// <list type="bullet">
/// <item><b>W2 chain40</b> runs/s through 1…N identical nodes, the clients spread over them. A W2
/// run's steps are pure and run inside the commit that starts it, on the node that takes the request,
/// so nodes that only run workers would add nothing here: every node takes requests.</item>
/// <item><b>Backlog drain</b>: D one-step runs (a sleep of 0 s: a real task, leased, started and
/// finished by a worker, never run inline) enqueued through an intake node whose engine is off, then
/// 1…N worker nodes started together: tasks/s and queue latency (available_at → started_at) read from
/// the tasks table, with PostgreSQL's commits per task and the machine's CPU over the drain.</item>
/// </list>
/// Ratios are against one node, measured in the same run; the figures for the report read runs/s
/// and tasks/s against raw single-row commits on the same PostgreSQL at the same concurrency.
/// </summary>
public static class ScaleOutBench
{
    private const int Clients = 16;

    public static async Task<Figures> RunAsync(string serverDll, string server, int maxNodes, int drainRuns, TimeSpan loadDuration, TextWriter output)
    {
        var figures = new Figures("Backlog drain", "PostgreSQL");
        // A worker node runs 4 × cores attempts at once (CADRE_ENGINE_WORKERS' default).
        var slots = 4 * Environment.ProcessorCount;
        var commitsClients = await CommitRate.MeasureAsync(server, Clients, TimeSpan.FromSeconds(5));
        var commitsSlots = await CommitRate.MeasureAsync(server, slots, TimeSpan.FromSeconds(5));
        output.WriteLine($"PostgreSQL; W2: {Clients} clients for {loadDuration.TotalSeconds:0} s over 1…{maxNodes} nodes; drain: {drainRuns} one-step runs, then 1…{maxNodes} worker nodes");
        var chains = new List<(int Nodes, Load One, Load Spread)>();
        for (var nodes = 1; nodes <= maxNodes; nodes++)
        {
            chains.Add((nodes, await ChainAsync(serverDll, server, nodes, 1, loadDuration), await ChainAsync(serverDll, server, nodes, Clients, loadDuration)));
            output.WriteLine($"  W2 chain40 on {nodes} node(s): {chains[^1].One.RunsPerSecond:F0} runs/s of one workflow, {chains[^1].Spread.RunsPerSecond:F0} of {Clients}");
        }

        var drains = new List<(int Workers, Drain Drain)>();
        for (var workers = 1; workers <= maxNodes; workers++)
        {
            drains.Add((workers, await DrainAsync(serverDll, server, workers, drainRuns)));
            output.WriteLine($"  drain with {workers} worker node(s): {drains[^1].Drain.TasksPerSecond:F0} tasks/s");
        }

        output.WriteLine();
        foreach (var (title, pick) in new (string, Func<(int Nodes, Load One, Load Spread), Load>)[] { ("W2 chain40, one workflow", c => c.One), ($"W2 chain40, {Clients} workflows", c => c.Spread) })
        {
            output.WriteLine($"{title,-30} {"runs/s",8} {"÷ 1 node",9} {"p50 ms",8} {"p99 ms",8} {"CPU busy",9} {"nodes ms/run",13} {"PostgreSQL ms/run",18}");
            foreach (var chain in chains)
            {
                var load = pick(chain);
                output.WriteLine($"{$"{chain.Nodes} node(s)",-30} {load.RunsPerSecond,8:F0} {load.RunsPerSecond / pick(chains[0]).RunsPerSecond,9:F2} {load.P50,8:F1} {load.P99,8:F1} " +
                    $"{load.CpuBusy,9:P0} {load.NodesCpuPerRun,13:F2} {load.PostgresCpuPerRun,18:F2}");
            }

            output.WriteLine();
        }

        output.WriteLine($"enqueue through the intake node: {drains.Average(d => d.Drain.EnqueuedPerSecond):F0} runs/s ({Clients} clients)");
        output.WriteLine($"{"drain",-22} {"tasks/s",8} {"÷ 1 node",9} {"wait p50 s",11} {"wait p99 s",11} {"xacts/task",11} {"flushes/task",13} {"CPU busy",9} {"workers ms/task",16} {"PostgreSQL ms/task",19}");
        foreach (var (workers, drain) in drains)
        {
            output.WriteLine($"{$"{workers} worker node(s)",-22} {drain.TasksPerSecond,8:F0} {drain.TasksPerSecond / drains[0].Drain.TasksPerSecond,9:F2} " +
                $"{drain.WaitP50,11:F1} {drain.WaitP99,11:F1} {drain.TransactionsPerTask,11:F2} {drain.FlushesPerTask,13:F2} {drain.CpuBusy,9:P0} " +
                $"{drain.WorkerCpuPerTask,16:F2} {drain.PostgresCpuPerTask,19:F2}");
        }

        figures.Add($"enqueue {drainRuns:N0} runs through the intake node, {Clients} clients", drains.Average(d => d.Drain.EnqueuedPerSecond), "runs/s",
            $"single-row commits, {Clients} connections", commitsClients, "commits/s");
        foreach (var (workers, drain) in drains)
        {
            figures.Add($"drain, {workers} worker node(s): tasks/s", drain.TasksPerSecond, "tasks/s", $"single-row commits, {slots} connections", commitsSlots, "commits/s");
            figures.Add($"drain, {workers} worker node(s): queue wait p50", drain.WaitP50, "s");
            figures.Add($"drain, {workers} worker node(s): transactions per task", drain.TransactionsPerTask, "xacts");
        }

        foreach (var (nodes, one, _) in chains)
        {
            figures.Add($"W2 chain40 through {nodes} node(s), one workflow, {Clients} clients", one.RunsPerSecond, "runs/s", $"single-row commits, {Clients} connections", commitsClients, "commits/s");
        }

        return figures;
    }

    /// <summary>A load pass; CPU is the machine's busy share, and the nodes' and PostgreSQL's CPU per run.</summary>
    private sealed record Load(double RunsPerSecond, double P50, double P99, double CpuBusy = 0, double NodesCpuPerRun = 0, double PostgresCpuPerRun = 0);

    /// <summary>A drain's figures; transactions count every statement PostgreSQL ran on its own (reads too), flushes the WAL syncs of the whole server.</summary>
    private sealed record Drain(double EnqueuedPerSecond, double TasksPerSecond, double WaitP50, double WaitP99, double TransactionsPerTask, double FlushesPerTask, double CpuBusy,
        double WorkerCpuPerTask, double PostgresCpuPerTask);

    /// <summary>
    /// W2 through <paramref name="count"/> nodes, the runs of one workflow or spread over several copies
    /// (starts of one workflow take turns on its run-number counter, whatever the nodes).
    /// </summary>
    private static async Task<Load> ChainAsync(string serverDll, string server, int count, int workflowCount, TimeSpan duration)
    {
        await using var cluster = await Nodes.StartAsync(serverDll, server, $"w2_{count}_{workflowCount}", count, intake: false);
        var copies = Enumerable.Range(0, workflowCount).Select(i =>
        {
            var chain = WorkflowBench.Chain40();
            chain["name"] = $"chain40-{i}";
            return chain;
        }).ToArray();
        var workflows = await cluster.CreateWorkspaceAsync(copies);
        var clients = cluster.Clients(Clients);
        HttpRequestMessage Start(int n) => new(HttpMethod.Post, $"{workflows}/chain40-{n % workflowCount}/runs?wait=30s") { Content = JsonContent.Create(new { input = new { id = n, counter = 0 } }) };
        static async Task CheckAsync(HttpResponseMessage response)
        {
            var run = await response.Content.ReadFromJsonAsync<JsonObject>();
            if ((string?)run?["status"] != "succeeded" || (int?)run["output"]?["counter"] != 40)
            {
                throw new InvalidOperationException($"W2: {run?.ToJsonString()}");
            }
        }

        // Every node's code warms up under load before the measured pass.
        await LoadAsync(clients, Start, CheckAsync, TimeSpan.FromSeconds(5), offset: 0);
        await using var connection = new NpgsqlConnection(cluster.Database);
        await connection.OpenAsync();
        var postmaster = Parent(await ScalarAsync<int>(connection, "SELECT pg_backend_pid()"));
        var (cpu, postgres, nodes) = (CpuTimes(), ChildrenCpu(postmaster), cluster.ProcessorTime);
        var load = await LoadAsync(clients, Start, CheckAsync, duration, offset: 1_000_000);
        var (cpuAfter, postgresAfter, nodesAfter) = (CpuTimes(), ChildrenCpu(postmaster), cluster.ProcessorTime);
        var runs = load.RunsPerSecond * duration.TotalSeconds;
        return load with
        {
            CpuBusy = (cpuAfter.Busy - cpu.Busy) / (double)(cpuAfter.Total - cpu.Total),
            NodesCpuPerRun = (nodesAfter - nodes).TotalMilliseconds / runs,
            PostgresCpuPerRun = (postgresAfter - postgres).TotalMilliseconds / runs,
        };
    }

    private static async Task<Drain> DrainAsync(string serverDll, string server, int workers, int runs)
    {
        await using var cluster = await Nodes.StartAsync(serverDll, server, $"drain_{workers}", 1, intake: true);
        // Copies of the workflow, one per client: starts of one workflow take turns on its run-number counter.
        var workflows = await cluster.CreateWorkspaceAsync([.. Enumerable.Range(0, Clients).Select(i => new JsonObject
        {
            ["name"] = $"one-{i}",
            ["steps"] = new JsonArray(new JsonObject
            {
                ["id"] = "nap",
                ["activity"] = new JsonObject { ["uniqueIdentifier"] = "sleep" },
                ["input"] = new JsonObject { ["duration"] = "0s" },
            }),
        })]);
        var clients = cluster.Clients(Clients);
        var enqueue = Stopwatch.StartNew();
        var next = -1;
        await Task.WhenAll(clients.Select(async (client, c) =>
        {
            while (Interlocked.Increment(ref next) < runs)
            {
                using var response = await client.PostAsJsonAsync($"{workflows}/one-{c}/runs", new { input = new { } });
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"Enqueue → {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                }
            }
        }));
        var enqueued = runs / enqueue.Elapsed.TotalSeconds;

        await using var connection = new NpgsqlConnection(cluster.Database);
        await connection.OpenAsync();
        var commitsBefore = await ScalarAsync<long>(connection, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()");
        var flushesBefore = await ScalarAsync<long>(connection, "SELECT wal_sync FROM pg_stat_wal");
        var cpuBefore = CpuTimes();
        var postmaster = Parent(await ScalarAsync<int>(connection, "SELECT pg_backend_pid()"));
        var postgresBefore = ChildrenCpu(postmaster);
        await cluster.AddWorkersAsync(workers);
        var drained = Stopwatch.StartNew();
        while (await ScalarAsync<long>(connection, "SELECT COUNT(*) FROM runs WHERE status = 'succeeded'") < runs)
        {
            if (drained.Elapsed > TimeSpan.FromSeconds(Math.Max(300, runs / 20)))
            {
                throw new TimeoutException($"The backlog did not drain: {await ScalarAsync<long>(connection, "SELECT COUNT(*) FROM runs WHERE status = 'succeeded'")} of {runs} runs done.");
            }

            await Task.Delay(200);
        }

        var cpuAfter = CpuTimes();
        var postgresCpu = ChildrenCpu(postmaster) - postgresBefore;
        var workersCpu = cluster.WorkersProcessorTime;
        // Statistics reach pg_stat_database within a second of each transaction.
        await Task.Delay(1500);
        var commits = await ScalarAsync<long>(connection, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()") - commitsBefore;
        var flushes = await ScalarAsync<long>(connection, "SELECT wal_sync FROM pg_stat_wal") - flushesBefore;
        await using var figures = new NpgsqlCommand(
            "SELECT COUNT(*), EXTRACT(EPOCH FROM MAX(finished_at) - MIN(started_at))::float8, " +
            "EXTRACT(EPOCH FROM percentile_disc(0.5) WITHIN GROUP (ORDER BY started_at - available_at))::float8, " +
            "EXTRACT(EPOCH FROM percentile_disc(0.99) WITHIN GROUP (ORDER BY started_at - available_at))::float8 " +
            "FROM tasks WHERE kind = 'step' AND status = 'succeeded'", connection);
        await using var reader = await figures.ExecuteReaderAsync();
        await reader.ReadAsync();
        var tasks = reader.GetInt64(0);
        if (tasks != runs)
        {
            throw new InvalidOperationException($"{tasks} tasks succeeded for {runs} runs.");
        }

        var busy = (cpuAfter.Busy - cpuBefore.Busy) / (double)(cpuAfter.Total - cpuBefore.Total);
        return new Drain(enqueued, tasks / reader.GetDouble(1), reader.GetDouble(2), reader.GetDouble(3), commits / (double)tasks, flushes / (double)tasks, busy,
            workersCpu.TotalMilliseconds / tasks, postgresCpu.TotalMilliseconds / tasks);
    }

    private static async Task<Load> LoadAsync(HttpClient[] clients, Func<int, HttpRequestMessage> request, Func<HttpResponseMessage, Task> check, TimeSpan duration, int offset)
    {
        var latencies = new List<double>();
        var next = offset;
        var elapsed = Stopwatch.StartNew();
        await Task.WhenAll(clients.Select(async client =>
        {
            while (elapsed.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                using var message = request(Interlocked.Increment(ref next));
                using var response = await client.SendAsync(message);
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"{message.RequestUri} → {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                }

                await check(response);
                lock (latencies)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            }
        }));
        var seconds = elapsed.Elapsed.TotalSeconds;
        var sorted = latencies.Order().ToArray();
        return new Load(sorted.Length / seconds, Percentile(sorted, 0.50), Percentile(sorted, 0.99));
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)Convert.ChangeType((await command.ExecuteScalarAsync())!, typeof(T), CultureInfo.InvariantCulture);
    }

    /// <summary>The parent of a process (a PostgreSQL backend's is the postmaster).</summary>
    private static int Parent(int pid) => int.Parse(Stat(pid)![1], CultureInfo.InvariantCulture);

    /// <summary>CPU time of a process's live children (PostgreSQL's backends and helpers; this machine only).</summary>
    private static TimeSpan ChildrenCpu(int parent)
    {
        long ticks = 0;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), CultureInfo.InvariantCulture, out var pid) && Stat(pid) is { } stat && stat[1] == parent.ToString(CultureInfo.InvariantCulture))
            {
                ticks += long.Parse(stat[11], CultureInfo.InvariantCulture) + long.Parse(stat[12], CultureInfo.InvariantCulture);
            }
        }

        // Linux reports clock ticks of 1/100 s.
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    /// <summary>/proc/[pid]/stat after the command name: state, ppid, … (utime and stime at 11 and 12); null when the process is gone.</summary>
    private static string[]? Stat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            return text[(text.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The machine's CPU time (all cores) from /proc/stat, busy and in all, in clock ticks.</summary>
    private static (long Busy, long Total) CpuTimes()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var total = fields.Take(8).Sum();
        return (total - fields[3] - fields[4], total);
    }

    /// <summary>Nodes of one database of their own: the first takes the requests (its engine off when an intake), workers join later.</summary>
    private sealed class Nodes : IAsyncDisposable
    {
        private readonly List<BenchServer> _nodes = [];
        private readonly string _serverDll;
        private readonly string _server;
        private readonly string _adminKey = "bench-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
        private readonly Dictionary<string, string> _environment;
        private readonly List<HttpClient> _clients = [];
        private readonly List<SocketsHttpHandler> _handlers = [];
        private readonly int _requestNodes;

        private Nodes(string serverDll, string server, string database, int requestNodes)
        {
            _serverDll = serverDll;
            _server = server;
            Database = database;
            _requestNodes = requestNodes;
            _environment = new Dictionary<string, string>
            {
                ["CADRE_DATABASE"] = database,
                // Every node opens what another sealed.
                ["CADRE_ENCRYPTION_KEY"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            };
        }

        public string Database { get; }

        public static async Task<Nodes> StartAsync(string serverDll, string server, string name, int count, bool intake)
        {
            var database = new NpgsqlConnectionStringBuilder(server) { Database = $"cadre_scaleout_{name}_{DateTime.UtcNow:HHmmss}" }.ConnectionString;
            await using (var connection = new NpgsqlConnection(server))
            {
                await connection.OpenAsync();
                await using var create = new NpgsqlCommand($"CREATE DATABASE {new NpgsqlConnectionStringBuilder(database).Database}", connection);
                await create.ExecuteNonQueryAsync();
            }

            var nodes = new Nodes(serverDll, server, database, count);
            // One node first, so the schema is migrated once before the others start.
            nodes._nodes.Add(await nodes.StartNodeAsync(engine: !intake));
            nodes._nodes.AddRange(await Task.WhenAll(Enumerable.Range(1, count - 1).Select(_ => nodes.StartNodeAsync(engine: true))));
            return nodes;
        }

        /// <summary>CPU time used by every node so far.</summary>
        public TimeSpan ProcessorTime
        {
            get
            {
                lock (_nodes)
                {
                    return _nodes.Aggregate(TimeSpan.Zero, (sum, node) => sum + node.ProcessorTime);
                }
            }
        }

        /// <summary>CPU time used by the nodes added with <see cref="AddWorkersAsync"/>, start-up included.</summary>
        public TimeSpan WorkersProcessorTime
        {
            get
            {
                lock (_nodes)
                {
                    return _nodes.Skip(_requestNodes).Aggregate(TimeSpan.Zero, (sum, node) => sum + node.ProcessorTime);
                }
            }
        }

        public Task AddWorkersAsync(int count) => Task.WhenAll(Enumerable.Range(0, count).Select(async _ =>
        {
            var node = await StartNodeAsync(engine: true);
            lock (_nodes)
            {
                _nodes.Add(node);
            }
        }));

        private Task<BenchServer> StartNodeAsync(bool engine)
        {
            var environment = new Dictionary<string, string>(_environment) { ["CADRE_ENGINE_ENABLED"] = engine ? "true" : "false" };
            return BenchServer.StartAsync(new BenchSettings(_serverDll, 0, 0, 0, Database), environment, _adminKey);
        }

        /// <summary>A workspace with the given workflows, through the first node; answers the workflows' path.</summary>
        public async Task<string> CreateWorkspaceAsync(params JsonObject[] definitions)
        {
            using var admin = new HttpClient { BaseAddress = _nodes[0].BaseAddress };
            admin.DefaultRequestHeaders.Authorization = new("Bearer", _adminKey);
            var workspace = "scale-" + DateTime.UtcNow.ToString("HHmmss", CultureInfo.InvariantCulture);
            (await admin.PostAsJsonAsync("/api/v1/workspaces", new { name = workspace })).EnsureSuccessStatusCode();
            foreach (var workflow in definitions)
            {
                var created = await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/workflows", workflow);
                if (!created.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"Creating {workflow["name"]} → {(int)created.StatusCode}: {await created.Content.ReadAsStringAsync()}");
                }
            }

            return $"/api/v1/workspaces/{workspace}/workflows";
        }

        /// <summary><paramref name="count"/> clients spread over the nodes that take requests, in turn.</summary>
        public HttpClient[] Clients(int count)
        {
            for (var i = 0; i < count; i++)
            {
                var handler = new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
                var client = new HttpClient(handler) { BaseAddress = _nodes[i % _requestNodes].BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
                client.DefaultRequestHeaders.Authorization = new("Bearer", _adminKey);
                _handlers.Add(handler);
                _clients.Add(client);
            }

            return [.. _clients.TakeLast(count)];
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var client in _clients)
            {
                client.Dispose();
            }

            foreach (var handler in _handlers)
            {
                handler.Dispose();
            }

            foreach (var node in _nodes)
            {
                await node.DisposeAsync();
            }

            await using var connection = new NpgsqlConnection(_server);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE {new NpgsqlConnectionStringBuilder(Database).Database} WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }
}
