using System.Net;
using System.Text.Json.Nodes;
using Cadre.Nodes;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Server.Tests.Nodes;

/// <summary>Helpers for the node tests: the registry as the API lists it, and rows written as other nodes would have.</summary>
internal static class NodeApi
{
    public const string Path = "/api/v1/admin/nodes";

    /// <summary>Heartbeats fast enough that a silent node is dead within a second.</summary>
    public static readonly Dictionary<string, string?> FastHeartbeats = new()
    {
        ["Cadre:Node:HeartbeatInterval"] = "00:00:00.200",
        ["Cadre:Node:DeadAfter"] = "00:00:01",
    };

    /// <summary>Every node listed, newest first.</summary>
    public static async Task<List<JsonObject>> NodesAsync(this HttpClient admin, string query = "")
    {
        var response = await admin.GetAsync(Path + query);
        await response.ShouldBeAsync(HttpStatusCode.OK);
        return [.. (await response.ReadObjectAsync())["results"]!.AsArray().Select(n => n!.AsObject())];
    }

    public static JsonObject Node(this List<JsonObject> nodes, string id) => nodes.Single(n => (string)n["id"]! == id);

    /// <summary>A row as a node of another process would have left it.</summary>
    public static async Task AddNodeAsync(this CadreApp app, string id, TimeSpan silentFor, TimeSpan? stoppedAgo = null, string role = "worker")
    {
        var now = DateTime.UtcNow;
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
        db.Nodes.Add(new Node
        {
            Id = id,
            Name = $"elsewhere/{id}",
            Role = role,
            Version = "0.0.1",
            StartedAt = now - silentFor - TimeSpan.FromHours(1),
            LastHeartbeatAt = now - silentFor,
            TasksInFlight = 1,
            StoppedAt = now - stoppedAgo,
        });
        await db.SaveChangesAsync();
    }

    /// <summary>Gives the run's leased tasks to another node, as if that node had leased them.</summary>
    public static async Task<int> LeaseToAsync(this CadreApp app, string runId, string owner)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
        return await db.Tasks.Where(t => t.RunId == runId && t.Status == "leased").ExecuteUpdateAsync(t => t.SetProperty(x => x.LeaseOwner, owner));
    }
}
