using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Storage;
using Cadre.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.Llm;

/// <summary>A workspace's named check around model calls, which personas refer to by name.</summary>
internal sealed class Guardrail
{
    public const string IdPrefix = "grd";

    public required string Id { get; init; }

    public required string WorkspaceId { get; init; }

    public required string Name { get; init; }

    public string? Description { get; set; }

    /// <summary><c>input</c>, <c>output</c> or <c>both</c>.</summary>
    public required string Stage { get; set; }

    public required string Kind { get; set; }

    /// <summary>The kind's settings, as JSON.</summary>
    public required string Config { get; set; }

    /// <summary><c>block</c>, <c>redact</c> or <c>warn</c>.</summary>
    public required string Action { get; set; }

    /// <summary>Labels a workflow's <c>guardrailTags</c> select by, as a JSON array.</summary>
    public string Tags { get; set; } = "[]";

    public int Version { get; set; }

    public string? CreatedBy { get; init; }

    public string? UpdatedBy { get; set; }

    public DateTime CreatedAt { get; init; }

    public DateTime UpdatedAt { get; set; }
}

internal sealed class GuardrailConfiguration : IEntityTypeConfiguration<Guardrail>
{
    public void Configure(EntityTypeBuilder<Guardrail> builder)
    {
        builder.ToTable("guardrails");
        builder.HasKey(g => g.Id);
        builder.HasIndex(g => new { g.WorkspaceId, g.Name }).IsUnique();
        builder.Property(g => g.Version).IsConcurrencyToken();
        builder.HasOne<Workspace>().WithMany().HasForeignKey(g => g.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>Body of create, and of PATCH (fields present replace; the name stays).</summary>
public sealed record GuardrailRequest(
    string? Name = null, string? Description = null, string? Stage = null, string? Kind = null, JsonObject? Config = null, string? Action = null, IReadOnlyList<string>? Tags = null);

public sealed record GuardrailResponse(
    string Id, string Name, string? Description, string Stage, string Kind, JsonObject Config, string Action, IReadOnlyList<string> Tags, int Version,
    Actor? CreatedBy, Actor? UpdatedBy, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>One check as it runs, from the registry or from a persona's own rules.</summary>
internal sealed record GuardrailCheck(string Name, string Stage, string Kind, JsonObject Config, string Action)
{
    public bool Applies(string stage) => Stage == "both" || Stage == stage;
}

/// <summary>What a guardrail found: which, what, and what was done about it.</summary>
internal sealed record GuardrailViolation(string Guardrail, string Stage, string Kind, string Action, string Detail)
{
    public JsonObject ToJson() => new()
    {
        ["guardrail"] = Guardrail, ["stage"] = Stage, ["kind"] = Kind, ["action"] = Action, ["detail"] = Detail,
    };
}

/// <summary>The kinds of check, their settings, and which actions make sense for each.</summary>
internal static partial class GuardrailRules
{
    public static IReadOnlyList<string> Stages { get; } = ["input", "output", "both"];

    public static IReadOnlyList<string> Actions { get; } = ["block", "redact", "warn"];

    public static IReadOnlyList<string> Kinds { get; } = ["max_length", "deny_pattern", "require_pattern", "deny_topic", "json_schema", "pii", "llm_judge"];

    public static IReadOnlyList<string> PiiTypes { get; } = ["email", "phone", "card"];

    /// <summary>Kinds whose finding can be cut out of the text; the others can only block or warn.</summary>
    public static bool CanRedact(string kind) => kind is "max_length" or "deny_pattern" or "deny_topic" or "pii";

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,99}$")]
    public static partial Regex Name();

    /// <summary>Checks a kind's settings; answers them normalised.</summary>
    public static JsonObject? CheckConfig(string kind, JsonObject? config, string action, ValidationErrors errors)
    {
        config ??= [];
        if (action == "redact" && !CanRedact(kind))
        {
            errors.Add("action", $"A {kind} guardrail cannot redact: use block or warn.");
        }

        switch (kind)
        {
            case "max_length":
                if (config["max"] is not JsonValue max || !max.TryGetValue<int>(out var length) || length is < 1 or > 1_000_000)
                {
                    errors.Add("config.max", "Is required: the most characters, 1 to 1000000.");
                }

                break;
            case "deny_pattern" or "require_pattern":
                if ((string?)config["pattern"] is not { Length: > 0 and <= 1000 } pattern || !IsRegex(pattern))
                {
                    errors.Add("config.pattern", "Is required: a .NET regular expression of at most 1000 characters.");
                }

                break;
            case "deny_topic":
                if ((string?)config["phrase"] is not { Length: > 0 and <= 200 })
                {
                    errors.Add("config.phrase", "Is required: a phrase of at most 200 characters.");
                }

                break;
            case "json_schema":
                if (config["schema"] is not JsonObject schema || JsonSchemas.Check(schema) is not null)
                {
                    errors.Add("config.schema", "Is required: a JSON Schema the text must follow.");
                }

                break;
            case "pii":
                var types = config["types"] as JsonArray ?? new JsonArray([.. PiiTypes.Select(t => (JsonNode)t)]);
                if (types.Count == 0 || types.Any(t => t is not JsonValue v || !v.TryGetValue<string>(out var type) || !PiiTypes.Contains(type)))
                {
                    errors.Add("config.types", $"Must list some of {string.Join(", ", PiiTypes)}.");
                }

                config["types"] = types.DeepClone();
                break;
            case "llm_judge":
                if ((string?)config["persona"] is not { Length: > 0 })
                {
                    errors.Add("config.persona", "Is required: the persona (name or ID) that judges.");
                }

                if ((string?)config["criteria"] is not { Length: > 0 and <= 4000 })
                {
                    errors.Add("config.criteria", "Is required: what the judge checks, at most 4000 characters.");
                }

                break;
        }

        return config;
    }

    private static bool IsRegex(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromMilliseconds(100));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}

/// <summary>The workspace's guardrail registry.</summary>
internal sealed class GuardrailService(CadreDbContext db, StorageProvider storage, IdGenerator ids, TimeProvider time, ActorService actors)
{
    public async Task<ServiceResult<Page<GuardrailResponse>>> ListAsync(string workspaceId, PageRequest page, CancellationToken cancellationToken)
    {
        var all = await db.Guardrails.AsNoTracking().Where(g => g.WorkspaceId == workspaceId).ToListAsync(cancellationToken);
        var resolved = await actors.ResolveAsync(all.SelectMany(g => new[] { g.CreatedBy, g.UpdatedBy }), cancellationToken);
        return KeysetPagination.ToPage([.. all.Select(g => ToResponse(g, resolved)).OrderBy(g => g.Name, StringComparer.Ordinal)], g => g.Name, page);
    }

    public async Task<GuardrailResponse?> GetAsync(string workspaceId, string nameOrId, CancellationToken cancellationToken) =>
        await FindAsync(workspaceId, nameOrId, tracking: false, cancellationToken) is { } found
            ? ToResponse(found, await actors.ResolveAsync([found.CreatedBy, found.UpdatedBy], cancellationToken))
            : null;

    /// <summary>The names of the guardrails carrying any of <paramref name="tags"/> (a workflow's <c>guardrailTags</c>).</summary>
    public async Task<IReadOnlyList<string>> NamesTaggedAsync(string workspaceId, IReadOnlyList<string> tags, CancellationToken cancellationToken)
    {
        if (tags.Count == 0)
        {
            return [];
        }

        return Labels.Tagged(
            await db.Guardrails.AsNoTracking().Where(g => g.WorkspaceId == workspaceId).Select(g => new ValueTuple<string, string>(g.Name, g.Tags)).ToListAsync(cancellationToken), tags);
    }

    /// <summary>The checks named by <paramref name="references"/> (names or IDs), or the first reference that names none.</summary>
    public async Task<(IReadOnlyList<GuardrailCheck> Checks, string? Missing)> ResolveAsync(string workspaceId, IReadOnlyList<string> references, CancellationToken cancellationToken)
    {
        if (references.Count == 0)
        {
            return ([], null);
        }

        var found = await db.Guardrails.AsNoTracking()
            .Where(g => g.WorkspaceId == workspaceId && (references.Contains(g.Name) || references.Contains(g.Id))).ToListAsync(cancellationToken);
        var missing = references.FirstOrDefault(r => found.All(g => g.Name != r && g.Id != r));
        return ([.. found.Select(g => new GuardrailCheck(g.Name, g.Stage, g.Kind, JsonNode.Parse(g.Config)!.AsObject(), g.Action))], missing);
    }

    public async Task<ServiceResult<GuardrailResponse>> CreateAsync(string workspaceId, GuardrailRequest request, Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var errors = new ValidationErrors();
        if (request.Name is not { } name || !GuardrailRules.Name().IsMatch(name))
        {
            errors.Add("name", "Is required: at most 100 lowercase letters, digits, dots, dashes or underscores.");
        }

        var (stage, kind, action, config) = Validate(request, "output", null, "block", null, errors);
        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        var now = time.GetUtcNowTruncated();
        var guardrail = new Guardrail
        {
            Id = ids.NewId(Guardrail.IdPrefix),
            WorkspaceId = workspaceId,
            Name = request.Name!,
            Description = request.Description,
            Stage = stage,
            Kind = kind,
            Config = config.ToJsonString(),
            Action = action,
            Tags = Labels.Write(request.Tags),
            Version = 1,
            CreatedBy = caller.ActorId,
            UpdatedBy = caller.ActorId,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Guardrails.Add(guardrail);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (storage.IsUniqueViolation(ex))
        {
            db.ChangeTracker.Clear();
            return ServiceError.Conflict($"A guardrail named '{request.Name}' already exists in this workspace.");
        }

        return ToResponse(guardrail, await actors.ResolveAsync([caller.ActorId], cancellationToken));
    }

    public async Task<ServiceResult<GuardrailResponse>> UpdateAsync(
        string workspaceId, string nameOrId, GuardrailRequest request, Caller caller, VersionPrecondition? precondition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var guardrail = await FindAsync(workspaceId, nameOrId, tracking: true, cancellationToken);
        if (guardrail is null)
        {
            return ServiceError.NotFound($"Guardrail '{nameOrId}' not found.");
        }

        if (precondition is not null && !precondition.IsMetBy(guardrail.Version))
        {
            return ServiceError.PreconditionFailed($"{precondition.Describe()}, but guardrail '{guardrail.Name}' is at version {guardrail.Version}.");
        }

        var errors = new ValidationErrors();
        if (request.Name is not null && request.Name != guardrail.Name)
        {
            errors.Add("name", "A guardrail keeps its name: personas refer to it. Create another one instead.");
        }

        var (stage, kind, action, config) = Validate(request, guardrail.Stage, guardrail.Kind, guardrail.Action, JsonNode.Parse(guardrail.Config)!.AsObject(), errors);
        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        guardrail.Description = request.Description ?? guardrail.Description;
        guardrail.Stage = stage;
        guardrail.Kind = kind;
        guardrail.Action = action;
        guardrail.Config = config.ToJsonString();
        guardrail.Tags = request.Tags is null ? guardrail.Tags : Labels.Write(request.Tags);
        guardrail.Version++;
        guardrail.UpdatedBy = caller.ActorId;
        guardrail.UpdatedAt = time.GetUtcNowTruncated();
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            return ServiceError.Conflict($"Guardrail '{guardrail.Name}' was changed by another request at the same time. Retry.");
        }

        return ToResponse(guardrail, await actors.ResolveAsync([guardrail.CreatedBy, guardrail.UpdatedBy], cancellationToken));
    }

    /// <summary>Deletes a guardrail. Personas that name it then fail their model steps clearly until they stop naming it.</summary>
    public async Task<ServiceResult<bool>> DeleteAsync(string workspaceId, string nameOrId, CancellationToken cancellationToken)
    {
        var deleted = await db.Guardrails.Where(g => g.WorkspaceId == workspaceId && (g.Id == nameOrId || g.Name == nameOrId)).ExecuteDeleteAsync(cancellationToken);
        return deleted > 0 ? true : ServiceError.NotFound($"Guardrail '{nameOrId}' not found.");
    }

    private static (string Stage, string Kind, string Action, JsonObject Config) Validate(
        GuardrailRequest request, string stage, string? kind, string action, JsonObject? config, ValidationErrors errors)
    {
        Labels.Check(request.Tags, errors);
        if (request.Description is { Length: > 2000 })
        {
            errors.Add("description", "Must be at most 2000 characters.");
        }

        stage = request.Stage ?? stage;
        if (!GuardrailRules.Stages.Contains(stage))
        {
            errors.Add("stage", $"Must be one of {string.Join(", ", GuardrailRules.Stages)}.");
        }

        kind = request.Kind ?? kind;
        if (kind is null || !GuardrailRules.Kinds.Contains(kind))
        {
            errors.Add("kind", $"Is required: one of {string.Join(", ", GuardrailRules.Kinds)}.");
            return (stage, kind ?? "", action, []);
        }

        action = request.Action ?? action;
        if (!GuardrailRules.Actions.Contains(action))
        {
            errors.Add("action", $"Must be one of {string.Join(", ", GuardrailRules.Actions)}.");
        }

        return (stage, kind, action, GuardrailRules.CheckConfig(kind, request.Config?.DeepClone().AsObject() ?? config, action, errors)!);
    }

    private Task<Guardrail?> FindAsync(string workspaceId, string nameOrId, bool tracking, CancellationToken cancellationToken)
    {
        var guardrails = tracking ? db.Guardrails : db.Guardrails.AsNoTracking();
        return guardrails.FirstOrDefaultAsync(g => g.WorkspaceId == workspaceId && (g.Id == nameOrId || g.Name == nameOrId), cancellationToken);
    }

    private static GuardrailResponse ToResponse(Guardrail guardrail, IReadOnlyDictionary<string, Actor> resolved) =>
        new(guardrail.Id, guardrail.Name, guardrail.Description, guardrail.Stage, guardrail.Kind, JsonNode.Parse(guardrail.Config)!.AsObject(), guardrail.Action,
            Labels.Read(guardrail.Tags), guardrail.Version, resolved.Find(guardrail.CreatedBy), resolved.Find(guardrail.UpdatedBy), guardrail.CreatedAt, guardrail.UpdatedAt);
}

/// <summary>Tags on skills and guardrails: lowercase slugs, stored as a JSON array.</summary>
internal static partial class Labels
{
    public const int MaxCount = 20;

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,49}$")]
    private static partial Regex Tag();

    public static void Check(IReadOnlyList<string>? tags, ValidationErrors errors)
    {
        if (tags is { Count: > MaxCount } || tags?.Any(t => t is null || !Tag().IsMatch(t)) == true)
        {
            errors.Add("tags", $"At most {MaxCount} tags, each a lowercase slug of at most 50 letters, digits, dots, dashes or underscores.");
        }
    }

    public static string Write(IReadOnlyList<string>? tags) => System.Text.Json.JsonSerializer.Serialize((tags ?? []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList());

    /// <summary>The names of the items (name, stored tags) carrying any of <paramref name="tags"/>.</summary>
    public static IReadOnlyList<string> Tagged(IEnumerable<(string Name, string Tags)> items, IReadOnlyList<string> tags) =>
        [.. items.Where(i => Read(i.Tags).Intersect(tags, StringComparer.Ordinal).Any()).Select(i => i.Name)];

    public static IReadOnlyList<string> Read(string tags) => System.Text.Json.JsonSerializer.Deserialize<List<string>>(tags) ?? [];
}
