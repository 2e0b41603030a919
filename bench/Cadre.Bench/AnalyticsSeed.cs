using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace Cadre.Bench;

/// <summary>One seeded run: its row in <c>runs</c> and the analytics facts its commits would have written.</summary>
public sealed record SeedRun(
    string Id, int Number, string Status, DateTime CreatedAt, DateTime RestedAt, string Personas,
    long InputTokens, long OutputTokens, long CachedInputTokens, long CostNanos, IReadOnlyList<SeedFact> Facts);

/// <summary>A row of <c>analytics_facts</c>, as <c>AnalyticsRecorder</c> writes it.</summary>
public sealed record SeedFact(
    string RunId, string Kind, DateTime At, string? Status, long DurationMs, string? Personas, string? StepId, string? Model,
    string? PersonaId, int? PersonaVersion, long InputTokens, long OutputTokens, long CachedInputTokens, long CostNanos);

/// <summary>
/// Runs of one workflow as the engine would have left them, made up with a fixed seed so both engines
/// get the same data: ~85 % succeeded, 10 % failed, 3 % halted, 2 % compensated; durations log-normal
/// (median 20 s, most between seconds and minutes); an <c>ask</c> model call in every run and a
/// <c>review</c> call in half, by the one persona, whose version goes from 1 to 5 over the period;
/// an approval in one run of twenty.
/// </summary>
public static class SeedRuns
{
    private const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

    public static IEnumerable<SeedRun> Generate(int count, DateTime from, DateTime to, string personaId, int firstNumber, int seed)
    {
        var random = new Random(seed);
        var step = (to - from).Ticks / count;
        for (var i = 0; i < count; i++)
        {
            var rested = new DateTime(from.Ticks + (i * step) + random.NextInt64(step), DateTimeKind.Utc);
            rested = new DateTime(rested.Ticks - (rested.Ticks % TimeSpan.TicksPerMillisecond), DateTimeKind.Utc);
            var durationMs = (long)Math.Exp(Math.Log(20_000) + (1.2 * Normal(random)));
            var created = rested.AddMilliseconds(-durationMs);
            var status = random.Next(100) switch
            {
                < 85 => "succeeded",
                < 95 => "failed",
                < 98 => "halted",
                _ => "compensated",
            };
            var version = 1 + (int)(5L * i / count);
            var personas = $"[\"{personaId}@{version}\"]";
            var id = "run_" + Ulid(created, i);
            var facts = new List<SeedFact>();
            foreach (var (stepId, model) in Calls(random))
            {
                var input = random.Next(500, 3000);
                var output = random.Next(100, 800);
                var cached = random.Next(2) == 0 ? 0 : random.Next(input / 2);
                // Nanodollars per token, about what small and mid-sized hosted models charge.
                var cost = model == "gpt-4o-mini" ? (150L * (input - cached)) + (75L * cached) + (600L * output) : (3000L * input) + (15_000L * output);
                facts.Add(new SeedFact(id, "usage", created.AddMilliseconds(durationMs * facts.Count / 3), null, 0, null, stepId, model, personaId, version, input, output, cached, cost));
            }

            if (random.Next(20) == 0)
            {
                facts.Add(new SeedFact(id, "approval", created.AddMilliseconds(durationMs * 2 / 3), null, durationMs / 2, null, null, null, null, null, 0, 0, 0, 0));
            }

            facts.Add(new SeedFact(id, "run", rested, status, durationMs, personas, null, null, null, null, 0, 0, 0, 0));
            yield return new SeedRun(
                id, firstNumber + i, status, created, rested, personas,
                facts.Sum(f => f.InputTokens), facts.Sum(f => f.OutputTokens), facts.Sum(f => f.CachedInputTokens), facts.Sum(f => f.CostNanos), facts);
        }
    }

    private static IEnumerable<(string Step, string Model)> Calls(Random random)
    {
        yield return ("ask", random.Next(10) < 8 ? "gpt-4o-mini" : "claude-sonnet-4");
        if (random.Next(2) == 0)
        {
            yield return ("review", "claude-sonnet-4");
        }
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    // Sortable like the server's IDs: 48 bits of milliseconds, then the run's index.
    private static string Ulid(DateTime at, long index)
    {
        var value = ((UInt128)(ulong)new DateTimeOffset(at).ToUnixTimeMilliseconds() << 80) | (UInt128)(ulong)index;
        Span<char> text = stackalloc char[26];
        for (var i = 25; i >= 0; i--)
        {
            text[i] = Alphabet[(int)(value & 31)];
            value >>= 5;
        }

        return new string(text);
    }
}

/// <summary>Writes seeded runs and facts straight into a stopped (or running) server's database, and reads what the harness checks.</summary>
public abstract class AnalyticsStore : IAsyncDisposable
{
    protected AnalyticsStore(DbConnection connection) => Connection = connection;

    protected DbConnection Connection { get; }

    public static async Task<AnalyticsStore> OpenAsync(BenchSettings settings, string dataDir)
    {
        if (settings.Database is { } database)
        {
            var connection = new NpgsqlConnection(database);
            await connection.OpenAsync();
            return new PostgresAnalyticsStore(connection);
        }

        var sqlite = new SqliteConnection($"Data Source={Path.Combine(dataDir, "cadre.db")};Pooling=False");
        await sqlite.OpenAsync();
        return new SqliteAnalyticsStore(sqlite);
    }

    /// <summary>Inserts the runs' rows and sets the workflow's run counter past them.</summary>
    public abstract Task InsertRunsAsync(string workspaceId, string workflowId, string workflowName, IEnumerable<SeedRun> runs);

    public abstract Task InsertFactsAsync(string workspaceId, string workflowId, IEnumerable<SeedFact> facts);

    /// <summary>The database's size on disk, and a word on what that counts.</summary>
    public abstract Task<string> SizeAsync();

    /// <summary>
    /// Brings the planner's statistics and the tables' dead rows to where the database's own upkeep would
    /// soon have them after millions of folded facts were deleted, so the first endpoint timed does not pay for it.
    /// </summary>
    public virtual Task SettleAsync() => Task.CompletedTask;

    public async Task<long> CountAsync(string table)
    {
        await using var command = Connection.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM {table}";
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

internal sealed class SqliteAnalyticsStore(SqliteConnection connection) : AnalyticsStore(connection)
{
    public override async Task InsertRunsAsync(string workspaceId, string workflowId, string workflowName, IEnumerable<SeedRun> runs)
    {
        await using var transaction = connection.BeginTransaction();
        await using var insert = connection.CreateCommand();
        insert.CommandText =
            "INSERT INTO runs (id, workspace_id, workflow_id, workflow_version, number, display_id, status, trigger_type, input, context, links, " +
            "halt_requested, created_at, started_at, finished_at, updated_at, version, input_tokens, output_tokens, cached_input_tokens, cost_nanos, rested_at, personas) " +
            "VALUES ($id, $ws, $wf, 1, $number, $display, $status, 'api', '{}', '{}', '{}', 0, $created, $created, $finished, $rested, 1, $in, $out, $cached, $cost, $rested, $personas)";
        var parameters = Parameters(insert);
        parameters["$ws"].Value = workspaceId;
        parameters["$wf"].Value = workflowId;
        var last = 0;
        foreach (var run in runs)
        {
            parameters["$id"].Value = run.Id;
            parameters["$number"].Value = run.Number;
            parameters["$display"].Value = $"{workflowName.ToUpperInvariant()}-{run.Number}";
            parameters["$status"].Value = run.Status;
            parameters["$created"].Value = run.CreatedAt;
            parameters["$finished"].Value = run.Status == "halted" ? DBNull.Value : run.RestedAt;
            parameters["$rested"].Value = run.RestedAt;
            parameters["$in"].Value = run.InputTokens;
            parameters["$out"].Value = run.OutputTokens;
            parameters["$cached"].Value = run.CachedInputTokens;
            parameters["$cost"].Value = run.CostNanos;
            parameters["$personas"].Value = run.Personas;
            await insert.ExecuteNonQueryAsync();
            last = run.Number;
        }

        await using var counter = connection.CreateCommand();
        counter.CommandText = "INSERT INTO workflow_run_counters (workflow_id, last_number) VALUES ($wf, $n) ON CONFLICT (workflow_id) DO UPDATE SET last_number = excluded.last_number";
        counter.Parameters.AddWithValue("$wf", workflowId);
        counter.Parameters.AddWithValue("$n", last);
        await counter.ExecuteNonQueryAsync();
        await transaction.CommitAsync();
    }

    public override async Task InsertFactsAsync(string workspaceId, string workflowId, IEnumerable<SeedFact> facts)
    {
        await using var transaction = connection.BeginTransaction();
        await using var insert = connection.CreateCommand();
        insert.CommandText =
            "INSERT INTO analytics_facts (workspace_id, workflow_id, run_id, kind, at, sign, status, duration_ms, personas, step_id, model, persona_id, persona_version, " +
            "input_tokens, output_tokens, cached_input_tokens, cost_nanos) " +
            "VALUES ($ws, $wf, $run, $kind, $at, 1, $status, $duration, $personas, $step, $model, $persona, $version, $in, $out, $cached, $cost)";
        var parameters = Parameters(insert);
        parameters["$ws"].Value = workspaceId;
        parameters["$wf"].Value = workflowId;
        foreach (var fact in facts)
        {
            parameters["$run"].Value = fact.RunId;
            parameters["$kind"].Value = fact.Kind;
            // Bound as DateTime, Microsoft.Data.Sqlite writes the text EF Core writes ("yyyy-MM-dd HH:mm:ss.FFFFFFF"), which the server compares.
            parameters["$at"].Value = fact.At;
            parameters["$status"].Value = (object?)fact.Status ?? DBNull.Value;
            parameters["$duration"].Value = fact.DurationMs;
            parameters["$personas"].Value = (object?)fact.Personas ?? DBNull.Value;
            parameters["$step"].Value = (object?)fact.StepId ?? DBNull.Value;
            parameters["$model"].Value = (object?)fact.Model ?? DBNull.Value;
            parameters["$persona"].Value = (object?)fact.PersonaId ?? DBNull.Value;
            parameters["$version"].Value = (object?)fact.PersonaVersion ?? DBNull.Value;
            parameters["$in"].Value = fact.InputTokens;
            parameters["$out"].Value = fact.OutputTokens;
            parameters["$cached"].Value = fact.CachedInputTokens;
            parameters["$cost"].Value = fact.CostNanos;
            await insert.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    /// <summary>A parameter for each <c>$name</c> in the command's text, to be given values row by row.</summary>
    private static Dictionary<string, SqliteParameter> Parameters(SqliteCommand command) =>
        System.Text.RegularExpressions.Regex.Matches(command.CommandText, @"\$\w+").Select(m => m.Value).Distinct(StringComparer.Ordinal)
            .ToDictionary(n => n, n => command.Parameters.Add(new SqliteParameter { ParameterName = n }), StringComparer.Ordinal);

    public override async Task<string> SizeAsync()
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT page_count * page_size, freelist_count * page_size FROM pragma_page_count, pragma_freelist_count, pragma_page_size";
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        // The facts' pages stay in the file as free pages once folded (no VACUUM): the file is the larger figure.
        return $"{reader.GetInt64(0) / 1048576.0:F0} MiB file, {(reader.GetInt64(0) - reader.GetInt64(1)) / 1048576.0:F0} MiB in use";
    }
}

internal sealed class PostgresAnalyticsStore(NpgsqlConnection connection) : AnalyticsStore(connection)
{
    // What autovacuum does on its own a little later: VACUUM clears the deleted facts' rows, ANALYZE refreshes the statistics.
    public override async Task SettleAsync()
    {
        await using var command = Connection.CreateCommand();
        command.CommandText = "VACUUM (ANALYZE) analytics_facts, analytics_rollups, runs";
        command.CommandTimeout = 600;
        await command.ExecuteNonQueryAsync();
    }

    public override async Task InsertRunsAsync(string workspaceId, string workflowId, string workflowName, IEnumerable<SeedRun> runs)
    {
        var last = 0;
        // COPY: a million rows in seconds, where row-by-row INSERTs would take minutes over the wire.
        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY runs (id, workspace_id, workflow_id, workflow_version, number, display_id, status, trigger_type, input, context, links, halt_requested, " +
            "created_at, started_at, finished_at, updated_at, version, input_tokens, output_tokens, cached_input_tokens, cost_nanos, rested_at, personas) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var run in runs)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(run.Id, NpgsqlDbType.Text);
                await copy.WriteAsync(workspaceId, NpgsqlDbType.Text);
                await copy.WriteAsync(workflowId, NpgsqlDbType.Text);
                await copy.WriteAsync(1, NpgsqlDbType.Integer);
                await copy.WriteAsync(run.Number, NpgsqlDbType.Integer);
                await copy.WriteAsync($"{workflowName.ToUpperInvariant()}-{run.Number}", NpgsqlDbType.Text);
                await copy.WriteAsync(run.Status, NpgsqlDbType.Text);
                await copy.WriteAsync("api", NpgsqlDbType.Text);
                await copy.WriteAsync("{}", NpgsqlDbType.Text);
                await copy.WriteAsync("{}", NpgsqlDbType.Text);
                await copy.WriteAsync("{}", NpgsqlDbType.Text);
                await copy.WriteAsync(false, NpgsqlDbType.Boolean);
                await copy.WriteAsync(run.CreatedAt, NpgsqlDbType.TimestampTz);
                await copy.WriteAsync(run.CreatedAt, NpgsqlDbType.TimestampTz);
                if (run.Status == "halted")
                {
                    await copy.WriteNullAsync();
                }
                else
                {
                    await copy.WriteAsync(run.RestedAt, NpgsqlDbType.TimestampTz);
                }

                await copy.WriteAsync(run.RestedAt, NpgsqlDbType.TimestampTz);
                await copy.WriteAsync(1, NpgsqlDbType.Integer);
                await copy.WriteAsync(run.InputTokens, NpgsqlDbType.Bigint);
                await copy.WriteAsync(run.OutputTokens, NpgsqlDbType.Bigint);
                await copy.WriteAsync(run.CachedInputTokens, NpgsqlDbType.Bigint);
                await copy.WriteAsync(run.CostNanos, NpgsqlDbType.Bigint);
                await copy.WriteAsync(run.RestedAt, NpgsqlDbType.TimestampTz);
                await copy.WriteAsync(run.Personas, NpgsqlDbType.Text);
                last = run.Number;
            }

            await copy.CompleteAsync();
        }

        await using var counter = new NpgsqlCommand(
            "INSERT INTO workflow_run_counters (workflow_id, last_number) VALUES ($1, $2) ON CONFLICT (workflow_id) DO UPDATE SET last_number = excluded.last_number", connection);
        counter.Parameters.AddWithValue(workflowId);
        counter.Parameters.AddWithValue(last);
        await counter.ExecuteNonQueryAsync();
    }

    public override async Task InsertFactsAsync(string workspaceId, string workflowId, IEnumerable<SeedFact> facts)
    {
        await using var copy = await connection.BeginBinaryImportAsync(
            "COPY analytics_facts (workspace_id, workflow_id, run_id, kind, at, sign, status, duration_ms, personas, step_id, model, persona_id, persona_version, " +
            "input_tokens, output_tokens, cached_input_tokens, cost_nanos) FROM STDIN (FORMAT BINARY)");
        foreach (var fact in facts)
        {
            await copy.StartRowAsync();
            await copy.WriteAsync(workspaceId, NpgsqlDbType.Text);
            await copy.WriteAsync(workflowId, NpgsqlDbType.Text);
            await copy.WriteAsync(fact.RunId, NpgsqlDbType.Text);
            await copy.WriteAsync(fact.Kind, NpgsqlDbType.Text);
            await copy.WriteAsync(fact.At, NpgsqlDbType.TimestampTz);
            await copy.WriteAsync(1, NpgsqlDbType.Integer);
            await WriteAsync(copy, fact.Status, NpgsqlDbType.Text);
            await copy.WriteAsync(fact.DurationMs, NpgsqlDbType.Bigint);
            await WriteAsync(copy, fact.Personas, NpgsqlDbType.Text);
            await WriteAsync(copy, fact.StepId, NpgsqlDbType.Text);
            await WriteAsync(copy, fact.Model, NpgsqlDbType.Text);
            await WriteAsync(copy, fact.PersonaId, NpgsqlDbType.Text);
            await WriteAsync(copy, fact.PersonaVersion, NpgsqlDbType.Integer);
            await copy.WriteAsync(fact.InputTokens, NpgsqlDbType.Bigint);
            await copy.WriteAsync(fact.OutputTokens, NpgsqlDbType.Bigint);
            await copy.WriteAsync(fact.CachedInputTokens, NpgsqlDbType.Bigint);
            await copy.WriteAsync(fact.CostNanos, NpgsqlDbType.Bigint);
        }

        await copy.CompleteAsync();
    }

    private static async Task WriteAsync<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type)
    {
        if (value is null)
        {
            await copy.WriteNullAsync();
        }
        else
        {
            await copy.WriteAsync(value, type);
        }
    }

    public override async Task<string> SizeAsync()
    {
        await using var command = new NpgsqlCommand(
            "SELECT pg_database_size(current_database()), pg_total_relation_size('analytics_rollups'), pg_total_relation_size('runs')", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return $"{reader.GetInt64(0) / 1048576.0:F0} MiB database ({reader.GetInt64(1) / 1048576.0:F0} MiB analytics_rollups, {reader.GetInt64(2) / 1048576.0:F0} MiB runs, with indexes)";
    }
}
