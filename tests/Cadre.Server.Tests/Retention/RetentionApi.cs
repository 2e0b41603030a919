using System.Data.Common;
using System.Net;
using System.Text.Json.Nodes;
using Cadre.Retention;
using Cadre.Server.Tests.Runs;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Server.Tests.Retention;

/// <summary>Helpers for the retention tests: ageing rows in the database, counting what belongs to runs, a pass on demand.</summary>
internal static class RetentionApi
{
    /// <summary>A pass of the app's retention duty, now, on this node (the duty's own schedule aside).</summary>
    public static Task<RetentionResult> SweepAsync(this CadreApp app) =>
        app.Services.GetRequiredService<RetentionService>().SweepAsync(CancellationToken.None);

    /// <summary>Moves the runs' end back by <paramref name="age"/>, as if they had ended that long ago.</summary>
    public static async Task EndedAgoAsync(this CadreApp app, TimeSpan age, params string[] runIds)
    {
        var ended = DateTime.UtcNow - age;
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
        (await db.Runs.Where(r => runIds.Contains(r.Id)).ExecuteUpdateAsync(r => r.SetProperty(x => x.FinishedAt, ended))).ShouldBe(runIds.Length);
    }

    /// <summary>Moves the events' recording back by <paramref name="age"/>.</summary>
    public static async Task RecordedAgoAsync(this CadreApp app, TimeSpan age, params string[] eventIds)
    {
        var recorded = DateTime.UtcNow - age;
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
        (await db.WorkspaceEvents.Where(e => eventIds.Contains(e.Id)).ExecuteUpdateAsync(e => e.SetProperty(x => x.CreatedAt, recorded))).ShouldBe(eventIds.Length);
    }

    public static async Task<HttpStatusCode> RunStatusCodeAsync(this TestWorkspace workspace, string runId) =>
        (await workspace.Owner.GetAsync(workspace.Runs($"/{runId}"))).StatusCode;

    /// <summary>
    /// Rows that belong to the runs, per table, found through the schema: every table with a
    /// <c>run_id</c> column, and every table with an <c>approval_id</c> column for the runs' approvals.
    /// Webhook deliveries are left out: they have a retention of their own and outlive their run. So are
    /// analytics facts: a run's outcome still counts after the run is gone, so they stay until the drain folds them.
    /// </summary>
    public static async Task<Dictionary<string, int>> RowsOfRunsAsync(this CadreApp app, IReadOnlyCollection<string> runIds)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync();
        var runs = string.Join(", ", runIds.Select(id => $"'{id}'"));
        var approvals = string.Join(", ", (await StringsAsync(connection, $"SELECT id FROM approvals WHERE run_id IN ({runs})")).Select(id => $"'{id}'"));
        var rows = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (column, ids) in new[] { ("run_id", runs), ("approval_id", approvals) })
        {
            foreach (var table in await StringsAsync(connection, TablesWith(app.Database, column)))
            {
                if (table is not ("webhook_deliveries" or "runs" or "analytics_facts"))
                {
                    rows[table] = ids.Length == 0 ? 0 : int.Parse((await StringsAsync(connection, $"SELECT CAST(count(*) AS TEXT) FROM {table} WHERE {column} IN ({ids})"))[0], System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }

        return rows;
    }

    private static string TablesWith(DatabaseKind database, string column) => database == DatabaseKind.Sqlite
        ? $"SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c WHERE m.type = 'table' AND c.name = '{column}'"
        : $"SELECT table_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND column_name = '{column}'";

    private static async Task<List<string>> StringsAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }

    /// <summary>The single approval a run waits on.</summary>
    public static async Task<JsonObject> ApprovalOfAsync(this TestWorkspace workspace, string runId) =>
        (await workspace.ListAllAsync($"/api/v1/workspaces/{workspace.Name}/approvals?run={runId}")).Single();
}
