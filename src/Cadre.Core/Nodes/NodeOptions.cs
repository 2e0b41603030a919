using Cadre.Runs;
using Cadre.Storage;
using Microsoft.Extensions.Options;

namespace Cadre.Nodes;

/// <summary>What this process does in a cluster of Cadre nodes on one database.</summary>
public enum NodeRole
{
    /// <summary>Everything: the HTTP API and every background duty (the default, and the only role on SQLite).</summary>
    All,

    /// <summary>Only the HTTP API and what a request does within its own commit; the engine's work is the workers'.</summary>
    Api,

    /// <summary>Only the engine and the background duties; over HTTP, only the health probes.</summary>
    Worker,
}

/// <summary>This node's place in the cluster. Section <c>Cadre:Node</c> (env <c>CADRE_NODE_…</c>).</summary>
public sealed class NodeOptions
{
    public const string SectionName = "Cadre:Node";

    /// <summary><c>all</c> (default), <c>api</c> or <c>worker</c>: see <see cref="NodeRole"/>.</summary>
    public string Role { get; set; } = "all";

    /// <summary>How the node is listed in <c>GET /api/v1/admin/nodes</c>. Default: <c>&lt;host name&gt;/&lt;process ID&gt;</c>.</summary>
    public string? Name { get; set; }

    /// <summary>How often the node says it is alive in its <c>nodes</c> row. Default 5 seconds.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long without a heartbeat makes a node dead, its leased tasks returned to the queue. Default: 3 × <see cref="HeartbeatInterval"/>.</summary>
    public TimeSpan? DeadAfter { get; set; }

    /// <summary>The dead threshold in effect.</summary>
    internal TimeSpan EffectiveDeadAfter => DeadAfter ?? 3 * HeartbeatInterval;

    /// <summary>The role as written (any case; empty is the default, as compose files pass unset variables); false when it names none.</summary>
    internal static bool TryParseRole(string? text, out NodeRole role)
    {
        role = NodeRole.All;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        foreach (var known in Enum.GetValues<NodeRole>())
        {
            if (string.Equals(text?.Trim(), WireName(known), StringComparison.OrdinalIgnoreCase))
            {
                role = known;
                return true;
            }
        }

        return false;
    }

    /// <summary>The role as settings, the <c>nodes</c> table and the API write it.</summary>
    internal static string WireName(NodeRole role) => role switch
    {
        NodeRole.Api => "api",
        NodeRole.Worker => "worker",
        _ => "all",
    };

    /// <summary>The role, once validated.</summary>
    internal NodeRole ParsedRole => TryParseRole(Role, out var role) ? role : NodeRole.All;
}

/// <summary>Refuses to start with a node setting that cannot work, saying why.</summary>
internal sealed class NodeOptionsValidator(IOptions<StorageOptions> storage, IOptions<EngineOptions> engine) : IValidateOptions<NodeOptions>
{
    public const int MaxNameLength = 200;

    public ValidateOptionsResult Validate(string? name, NodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!NodeOptions.TryParseRole(options.Role, out var role))
        {
            return ValidateOptionsResult.Fail($"Cadre:Node:Role (CADRE_NODE_ROLE) must be all, api or worker, not '{options.Role}'.");
        }

        // SQLite is one node by design (a lease found at start-up is taken for a dead process's): that node must do everything.
        if (role != NodeRole.All && DatabaseTarget.Parse(storage.Value.Database, storage.Value.DataDir, out _) is { Kind: DatabaseKind.Sqlite })
        {
            return ValidateOptionsResult.Fail(
                $"Cadre:Node:Role (CADRE_NODE_ROLE) '{NodeOptions.WireName(role)}' needs PostgreSQL: a SQLite database serves one node, which must have the role 'all'.");
        }

        if (role == NodeRole.Worker && !engine.Value.Enabled)
        {
            return ValidateOptionsResult.Fail("Cadre:Node:Role (CADRE_NODE_ROLE) 'worker' runs the engine, which Cadre:Engine:Enabled (CADRE_ENGINE_ENABLED) turns off: such a node would do nothing.");
        }

        if (options.Name?.Trim().Length > MaxNameLength)
        {
            return ValidateOptionsResult.Fail($"Cadre:Node:Name (CADRE_NODE_NAME) must be at most {MaxNameLength} characters.");
        }

        if (options.HeartbeatInterval < TimeSpan.FromMilliseconds(100) || options.HeartbeatInterval > TimeSpan.FromMinutes(1))
        {
            return ValidateOptionsResult.Fail("Cadre:Node:HeartbeatInterval (CADRE_NODE_HEARTBEAT_INTERVAL) must be between 100 ms and 1 minute.");
        }

        // One late heartbeat must not make a node dead: its tasks would be taken from it while it runs them.
        if (options.EffectiveDeadAfter < 2 * options.HeartbeatInterval || options.EffectiveDeadAfter > TimeSpan.FromHours(1))
        {
            return ValidateOptionsResult.Fail("Cadre:Node:DeadAfter (CADRE_NODE_DEAD_AFTER) must be at least twice Cadre:Node:HeartbeatInterval and at most 1 hour.");
        }

        return ValidateOptionsResult.Success;
    }
}
