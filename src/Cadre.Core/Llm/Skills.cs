using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Expressions;
using Cadre.Net;
using Cadre.Runs;
using Cadre.Storage;
using Cadre.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Llm;

/// <summary>A tool the workspace defines for its agents (kind <c>http</c>: a request made from templates over the model's arguments).</summary>
internal sealed class Skill
{
    public const string IdPrefix = "skl";

    public required string Id { get; init; }

    public required string WorkspaceId { get; init; }

    public required string Name { get; init; }

    public required string Description { get; set; }

    public required string Kind { get; init; }

    /// <summary>The request template and the arguments' JSON Schema, as JSON.</summary>
    public required string Config { get; set; }

    public string? AuthHeader { get; set; }

    /// <summary>Labels a workflow's <c>skillTags</c> select by, as a JSON array.</summary>
    public string Tags { get; set; } = "[]";

    /// <summary>Who must approve a call of this skill's tools before it runs (<see cref="Workflows.ApprovalSpec"/> as JSON); none when null.</summary>
    public string? Approval { get; set; }

    /// <summary>The auth header's value, encrypted with the instance's key ring; never returned.</summary>
    public string? AuthProtected { get; set; }

    public int Version { get; set; }

    public string? CreatedBy { get; init; }

    public string? UpdatedBy { get; set; }

    public DateTime CreatedAt { get; init; }

    public DateTime UpdatedAt { get; set; }
}

internal sealed class SkillConfiguration : IEntityTypeConfiguration<Skill>
{
    public void Configure(EntityTypeBuilder<Skill> builder)
    {
        builder.ToTable("skills");
        builder.HasKey(s => s.Id);
        builder.HasIndex(s => new { s.WorkspaceId, s.Name }).IsUnique();
        builder.Property(s => s.Version).IsConcurrencyToken();
        builder.HasOne<Workspace>().WithMany().HasForeignKey(s => s.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>A header sent with every call of the skill, its value write-only (an API key).</summary>
public sealed record SkillAuth(string? Header = null, string? Value = null);

/// <summary>
/// Body of create, and of PATCH (fields present replace; the name and kind stay).
/// <paramref name="Config"/> for kind <c>http</c>: <c>method</c>, <c>url</c>, <c>headers</c>, <c>body</c> (templates over
/// <c>args</c>, the model's arguments) and <c>parameters</c> (the arguments' JSON Schema).
/// <paramref name="Approval"/>: people who must approve each call before it runs (a step's approval shape); <c>{}</c> removes it.
/// </summary>
public sealed record SkillRequest(
    string? Name = null, string? Description = null, string? Kind = null, JsonObject? Config = null, SkillAuth? Auth = null, IReadOnlyList<string>? Tags = null,
    Workflows.ApprovalSpec? Approval = null);

/// <param name="AuthHeader">The auth header's name when one is set; its value never leaves the server.</param>
public sealed record SkillResponse(
    string Id, string Name, string Description, string Kind, JsonObject Config, string? AuthHeader, IReadOnlyList<string> Tags, Workflows.ApprovalSpec? Approval, int Version,
    Actor? CreatedBy, Actor? UpdatedBy, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>The workspace's skill registry; built-in tools (<see cref="AgentTools"/>) need no entry and take precedence.</summary>
internal sealed partial class SkillService(
    CadreDbContext db, StorageProvider storage, IdGenerator ids, TimeProvider time, ActorService actors, ISecretProtector secrets,
    Microsoft.Extensions.Options.IOptions<McpServerOptions> mcpServers)
{
    private McpServerOptions StdioServers => mcpServers.Value;

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$")]
    private static partial Regex ServerName();

    internal static bool IsServerName(string name) => ServerName().IsMatch(name);

    private async Task<(string Id, string Name)> WorkspaceAsync(string workspaceId, CancellationToken cancellationToken) =>
        (workspaceId, await db.Workspaces.AsNoTracking().Where(w => w.Id == workspaceId).Select(w => w.Name).FirstAsync(cancellationToken));

    /// <summary>What an http skill's templates read: the model's arguments, and the workspace's secrets by name (resolved when the tool is called).</summary>
    public static readonly ExpressionOptions TemplateOptions = new() { Roots = new HashSet<string>(StringComparer.Ordinal) { "args", Secrets.SecretReferences.Root } };

    [GeneratedRegex("^[a-z][a-z0-9_]{0,63}$")]
    private static partial Regex Name();

    public async Task<ServiceResult<Page<SkillResponse>>> ListAsync(string workspaceId, PageRequest page, CancellationToken cancellationToken)
    {
        var all = await db.Skills.AsNoTracking().Where(s => s.WorkspaceId == workspaceId).ToListAsync(cancellationToken);
        var resolved = await actors.ResolveAsync(all.SelectMany(s => new[] { s.CreatedBy, s.UpdatedBy }), cancellationToken);
        return KeysetPagination.ToPage([.. all.Select(s => ToResponse(s, resolved)).OrderBy(s => s.Name, StringComparer.Ordinal)], s => s.Name, page);
    }

    public async Task<SkillResponse?> GetAsync(string workspaceId, string nameOrId, CancellationToken cancellationToken) =>
        await FindAsync(workspaceId, nameOrId, tracking: false, cancellationToken) is { } found
            ? ToResponse(found, await actors.ResolveAsync([found.CreatedBy, found.UpdatedBy], cancellationToken))
            : null;

    /// <summary>The names of the skills carrying any of <paramref name="tags"/> (a workflow's <c>skillTags</c>).</summary>
    public async Task<IReadOnlyList<string>> NamesTaggedAsync(string workspaceId, IReadOnlyList<string> tags, CancellationToken cancellationToken)
    {
        if (tags.Count == 0)
        {
            return [];
        }

        return Labels.Tagged(
            await db.Skills.AsNoTracking().Where(s => s.WorkspaceId == workspaceId).Select(s => new ValueTuple<string, string>(s.Name, s.Tags)).ToListAsync(cancellationToken), tags);
    }

    /// <summary>The registry's skills among <paramref name="names"/>, auth decrypted, ready to call.</summary>
    public async Task<IReadOnlyList<(Skill Skill, string? AuthValue)>> ResolveAsync(string workspaceId, IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        if (names.Count == 0)
        {
            return [];
        }

        var found = await db.Skills.AsNoTracking().Where(s => s.WorkspaceId == workspaceId && (names.Contains(s.Name) || names.Contains(s.Id))).ToListAsync(cancellationToken);
        return [.. found.Select(s => (s, s.AuthProtected is { } value ? secrets.Unprotect(value) : null))];
    }

    public async Task<ServiceResult<SkillResponse>> CreateAsync(string workspaceId, SkillRequest request, Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var errors = new ValidationErrors();
        if (request.Name is not { } name || !Name().IsMatch(name))
        {
            errors.Add("name", "Is required: a tool name of at most 64 lowercase letters, digits and underscores, starting with a letter, such as get_weather.");
        }
        else if (AgentTools.Names.Contains(name))
        {
            errors.Add("name", $"'{name}' is a built-in tool.");
        }

        if (request.Kind is not ("http" or "mcp"))
        {
            errors.Add("kind", "Is required: http (a request template) or mcp (an MCP server's tools).");
        }

        Validate(request with { Kind = request.Kind ?? "http" }, request.Config, await WorkspaceAsync(workspaceId, cancellationToken), errors);
        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        var now = time.GetUtcNowTruncated();
        var skill = new Skill
        {
            Id = ids.NewId(Skill.IdPrefix),
            WorkspaceId = workspaceId,
            Name = request.Name!,
            Description = request.Description!,
            Kind = request.Kind!,
            Config = request.Config!.ToJsonString(),
            Tags = Labels.Write(request.Tags),
            Approval = WriteApproval(request.Approval),
            Version = 1,
            CreatedBy = caller.ActorId,
            UpdatedBy = caller.ActorId,
            CreatedAt = now,
            UpdatedAt = now,
        };
        SetAuth(skill, request.Auth);
        db.Skills.Add(skill);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (storage.IsUniqueViolation(ex))
        {
            db.ChangeTracker.Clear();
            return ServiceError.Conflict($"A skill named '{request.Name}' already exists in this workspace.");
        }

        return ToResponse(skill, await actors.ResolveAsync([caller.ActorId], cancellationToken));
    }

    public async Task<ServiceResult<SkillResponse>> UpdateAsync(
        string workspaceId, string nameOrId, SkillRequest request, Caller caller, VersionPrecondition? precondition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var skill = await FindAsync(workspaceId, nameOrId, tracking: true, cancellationToken);
        if (skill is null)
        {
            return ServiceError.NotFound($"Skill '{nameOrId}' not found.");
        }

        if (precondition is not null && !precondition.IsMetBy(skill.Version))
        {
            return ServiceError.PreconditionFailed($"{precondition.Describe()}, but skill '{skill.Name}' is at version {skill.Version}.");
        }

        var errors = new ValidationErrors();
        if (request.Name is not null && request.Name != skill.Name)
        {
            errors.Add("name", "A skill keeps its name: personas and steps refer to it. Create another one instead.");
        }

        if (request.Kind is not null && request.Kind != skill.Kind)
        {
            errors.Add("kind", "A skill keeps its kind.");
        }

        var config = request.Config ?? JsonNode.Parse(skill.Config)!.AsObject();
        Validate(request with { Description = request.Description ?? skill.Description, Kind = skill.Kind }, config, await WorkspaceAsync(workspaceId, cancellationToken), errors);
        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        skill.Description = request.Description ?? skill.Description;
        skill.Config = config.ToJsonString();
        skill.Tags = request.Tags is null ? skill.Tags : Labels.Write(request.Tags);
        skill.Approval = request.Approval is null ? skill.Approval : WriteApproval(request.Approval);
        if (request.Auth is not null)
        {
            SetAuth(skill, request.Auth);
        }

        skill.Version++;
        skill.UpdatedBy = caller.ActorId;
        skill.UpdatedAt = time.GetUtcNowTruncated();
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            return ServiceError.Conflict($"Skill '{skill.Name}' was changed by another request at the same time. Retry.");
        }

        return ToResponse(skill, await actors.ResolveAsync([skill.CreatedBy, skill.UpdatedBy], cancellationToken));
    }

    public async Task<ServiceResult<bool>> DeleteAsync(string workspaceId, string nameOrId, CancellationToken cancellationToken)
    {
        var deleted = await db.Skills.Where(s => s.WorkspaceId == workspaceId && (s.Id == nameOrId || s.Name == nameOrId)).ExecuteDeleteAsync(cancellationToken);
        return deleted > 0 ? true : ServiceError.NotFound($"Skill '{nameOrId}' not found.");
    }

    private void Validate(SkillRequest request, JsonObject? config, (string Id, string Name) workspace, ValidationErrors errors)
    {
        Labels.Check(request.Tags, errors);
        if (request.Approval is { } approval && !IsRemoval(approval))
        {
            Workflows.WorkflowGraphs.ValidateApproval(WithDefaults(approval), "approval", errors);
        }

        if (request.Description is not { Length: > 0 and <= 2000 })
        {
            errors.Add("description", "Is required: what the tool does, for the model, at most 2000 characters.");
        }

        if (config is null)
        {
            errors.Add("config", request.Kind == "mcp" ? "Is required: the MCP server's url." : "Is required: method, url, headers, body and parameters.");
            return;
        }

        if (request.Kind == "mcp")
        {
            // A workspace never names a program: stdio servers are the operator's (Cadre:Mcp:Servers), named by config.server.
            if (config["server"] is { } server)
            {
                if ((string?)server is not { } serverName || !StdioServers.Servers.TryGetValue(serverName, out var declared) || !declared.Allows(workspace.Id, workspace.Name))
                {
                    var offered = StdioServers.Servers.Where(s => s.Value.Allows(workspace.Id, workspace.Name)).Select(s => s.Key).Order(StringComparer.Ordinal).ToList();
                    errors.Add("config.server", offered.Count == 0
                        ? "The operator has declared no stdio MCP servers for this workspace (Cadre:Mcp:Servers); use url for a streamable HTTP server."
                        : $"Must be one of the stdio MCP servers the operator declared for this workspace: {string.Join(", ", offered)}.");
                }

                if (request.Auth is { Value.Length: > 0 })
                {
                    errors.Add("auth", "A stdio MCP server gets its secrets from the operator's configuration, not from a header.");
                }
            }
            else if ((string?)config["url"] is not { Length: > 0 and <= 2048 } mcpUrl || !Uri.TryCreate(mcpUrl, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
            {
                errors.Add("config.url", "Is required: the MCP server's streamable HTTP endpoint, an http(s) URL (or server: a stdio server the operator declared).");
            }

            foreach (var key in config.Select(c => c.Key).Where(k => k is not ("url" or "server")))
            {
                errors.Add($"config.{key}", "An MCP skill's config has only url (streamable HTTP) or server (an operator's stdio server): the server describes its own tools.");
            }

            if (config["url"] is not null && config["server"] is not null)
            {
                errors.Add("config", "Give url or server, not both.");
            }

            CheckAuth(request, errors);
            return;
        }

        var method = (string?)config["method"] ?? "GET";
        if (method is not ("GET" or "POST" or "PUT" or "PATCH" or "DELETE"))
        {
            errors.Add("config.method", "Must be GET, POST, PUT, PATCH or DELETE.");
        }

        if ((string?)config["url"] is not { Length: > 0 and <= 8192 } url || !TemplateParses(url))
        {
            errors.Add("config.url", "Is required: an http(s) URL, which may hold {{ args.… }} and {{ secrets.NAME }} templates.");
        }

        if (config["parameters"] is not JsonObject parameters || (string?)parameters["type"] != "object" || JsonSchemas.Check(parameters) is not null)
        {
            errors.Add("config.parameters", "Is required: the arguments' JSON Schema, of type object.");
        }

        foreach (var (name, value) in config["headers"] as JsonObject ?? [])
        {
            if (value is not JsonValue header || !header.TryGetValue<string>(out var text) || !TemplateParses(text))
            {
                errors.Add($"config.headers.{name}", "Must be a string, which may hold {{ args.… }} and {{ secrets.NAME }} templates.");
            }
        }

        if (config["body"] is { } body)
        {
            try
            {
                if (JsonTemplate.Parse(body, TemplateOptions).Expressions.Any(e => e.ReadsUnnamedMembersOf(Secrets.SecretReferences.Root)))
                {
                    errors.Add("config.body", Secrets.SecretReferences.ByNameOnly);
                }
            }
            catch (JsonTemplateException ex)
            {
                errors.Add("config.body", ex.Message);
            }
        }

        CheckAuth(request, errors);
    }

    private static void CheckAuth(SkillRequest request, ValidationErrors errors)
    {
        if (request.Auth is { } auth && !string.IsNullOrEmpty(auth.Value) && (auth.Header is not { Length: > 0 and <= 100 } || auth.Value.Length > 4096))
        {
            errors.Add("auth", "Needs a header name (at most 100 characters) and a value of at most 4096 characters.");
        }
    }

    private static bool TemplateParses(string text)
    {
        try
        {
            // A secret is read by its name, so a call decrypts only what the skill names.
            return !Template.Parse(text, TemplateOptions).Expressions.Any(e => e.ReadsUnnamedMembersOf(Secrets.SecretReferences.Root));
        }
        catch (ExpressionSyntaxException)
        {
            return false;
        }
    }

    /// <summary><c>{}</c>: no approval any more.</summary>
    private static bool IsRemoval(Workflows.ApprovalSpec approval) => approval == new Workflows.ApprovalSpec();

    private static string? WriteApproval(Workflows.ApprovalSpec? approval) =>
        approval is null || IsRemoval(approval) ? null
            : JsonSerializer.Serialize(WithDefaults(approval), StrictJson.Options);

    internal static Workflows.ApprovalSpec WithDefaults(Workflows.ApprovalSpec approval) =>
        approval with { Quorum = approval.Quorum ?? 1, OnTimeout = approval.OnTimeout ?? "reject" };

    internal static Workflows.ApprovalSpec? ReadApproval(Skill skill) =>
        skill.Approval is { } json ? JsonSerializer.Deserialize<Workflows.ApprovalSpec>(json, StrictJson.Options) : null;

    private void SetAuth(Skill skill, SkillAuth? auth)
    {
        var value = string.IsNullOrEmpty(auth?.Value) ? null : auth.Value;
        skill.AuthHeader = value is null ? null : auth!.Header;
        skill.AuthProtected = value is null ? null : secrets.Protect(value);
    }

    private Task<Skill?> FindAsync(string workspaceId, string nameOrId, bool tracking, CancellationToken cancellationToken)
    {
        var skills = tracking ? db.Skills : db.Skills.AsNoTracking();
        return skills.FirstOrDefaultAsync(s => s.WorkspaceId == workspaceId && (s.Id == nameOrId || s.Name == nameOrId), cancellationToken);
    }

    private static SkillResponse ToResponse(Skill skill, IReadOnlyDictionary<string, Actor> resolved) =>
        new(skill.Id, skill.Name, skill.Description, skill.Kind, JsonNode.Parse(skill.Config)!.AsObject(), skill.AuthHeader, Labels.Read(skill.Tags), ReadApproval(skill), skill.Version,
            resolved.Find(skill.CreatedBy), resolved.Find(skill.UpdatedBy), skill.CreatedAt, skill.UpdatedAt);
}

/// <summary>
/// A registry skill as a tool: the model's arguments are checked against the skill's schema, the
/// templates rendered over them (<c>args</c>) and the secrets they name (<c>secrets</c>, decrypted
/// when the tool is called), and the request sent through the outbound guard with the call's
/// idempotency key and the skill's auth header. What comes back to the model has those values redacted.
/// </summary>
internal sealed class HttpSkillFunction(Skill skill, string? authValue, OutboundHttp outbound, ActivityContext context, IServiceScopeFactory scopes) : AIFunction
{
    private readonly JsonObject _config = JsonNode.Parse(skill.Config)!.AsObject();

    public override string Name => skill.Name;

    public override string Description => skill.Description;

    public override JsonElement JsonSchema => JsonSerializer.SerializeToElement(_config["parameters"]);

    protected override async ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken)
    {
        var args = new JsonObject();
        foreach (var (name, value) in arguments)
        {
            args[name] = value is JsonElement element ? JsonNode.Parse(element.GetRawText()) : JsonSerializer.SerializeToNode(value);
        }

        if (JsonSchemas.Validate(_config["parameters"]!.AsObject(), args) is { Count: > 0 } problems)
        {
            return $"Error: the arguments do not follow the tool's schema: {string.Join("; ", problems)}";
        }

        var secretNames = Secrets.SecretReferences.In([_config["url"], _config["headers"], _config["body"]]);
        var secrets = Secrets.ResolvedSecrets.None;
        if (secretNames.Count > 0)
        {
            await using var services = scopes.CreateAsyncScope();
            secrets = await services.ServiceProvider.GetRequiredService<Secrets.SecretService>().ResolveAsync(context.WorkspaceId, secretNames, cancellationToken);
            if (secrets.ProblemFor(secretNames) is { } missing)
            {
                return $"Error: the tool cannot be used: {missing.Message}";
            }

            // The attempt's records (the conversation, its events) are redacted for these values from now on.
            context.Redactor.AddAll(secrets.Redactor);
        }

        var scope = new ExpressionScope(new Dictionary<string, JsonNode?> { ["args"] = args, [Secrets.SecretReferences.Root] = secrets.Scope() }, DateTimeOffset.UtcNow);
        try
        {
            var url = Text(Template.Parse((string)_config["url"]!, SkillService.TemplateOptions).Render(scope));
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                return $"Error: the tool's URL came out as '{context.Redactor.Redact(url)}', which is not an http(s) URL.";
            }

            using var request = new HttpRequestMessage(new HttpMethod((string?)_config["method"] ?? "GET"), uri);
            foreach (var (name, value) in _config["headers"] as JsonObject ?? [])
            {
                request.Headers.TryAddWithoutValidation(name, Text(Template.Parse((string)value!, SkillService.TemplateOptions).Render(scope)));
            }

            if (skill.AuthHeader is { } header && authValue is not null)
            {
                request.Headers.TryAddWithoutValidation(header, authValue);
            }

            request.Headers.TryAddWithoutValidation("Idempotency-Key", $"{context.IdempotencyKey}/{AgentTools.CallId(arguments)}");
            if (_config["body"] is { } body)
            {
                request.Content = new StringContent(JsonTemplate.Parse(body, SkillService.TemplateOptions).Render(scope)?.ToJsonString() ?? "null", Encoding.UTF8, "application/json");
            }

            using var response = await outbound.Client.SendAsync(request, cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            // A service that echoes the request (its headers, its URL) does not hand the model the secrets in it.
            text = context.Redactor.Redact(text);
            return new JsonObject
            {
                ["status"] = (int)response.StatusCode,
                ["body"] = text.Length > AgentTools.MaxBodyChars ? text[..AgentTools.MaxBodyChars] : text,
                ["truncated"] = text.Length > AgentTools.MaxBodyChars,
            }.ToJsonString();
        }
        catch (ExpressionEvaluationException ex)
        {
            return $"Error: the tool's templates could not be filled: {context.Redactor.Redact(ex.Message)}";
        }
        catch (HttpRequestException ex)
        {
            return $"Error: the request failed: {context.Redactor.Redact((ex.InnerException as OutboundRefusedException)?.Message ?? ex.Message)}";
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return "Error: the request timed out.";
        }
    }

    private static string Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : node?.ToJsonString() ?? "";
}

/// <summary>
/// The MCP servers one attempt talks to: each skill of kind <c>mcp</c> is connected over streamable
/// HTTP (through the outbound guard, with the skill's auth header), and its tools, as the server
/// describes them, are the agent's. The connections close with the attempt.
/// </summary>
internal sealed class McpSkills(OutboundHttp outbound, McpServerOptions stdioServers) : IAsyncDisposable
{
    private readonly List<ModelContextProtocol.Client.McpClient> _clients = [];

    public async Task<IReadOnlyList<AIFunction>> ConnectAsync(Skill skill, string? authValue, (string Id, string Name) workspace, CancellationToken cancellationToken)
    {
        ModelContextProtocol.Client.IClientTransport transport = JsonNode.Parse(skill.Config)!["server"] is { } server
            ? Stdio((string)server!, workspace)
            : Http(skill, authValue);
        var client = await ModelContextProtocol.Client.McpClient.CreateAsync(transport, clientOptions: null, loggerFactory: null, cancellationToken);
        _clients.Add(client);
        return [.. await client.ListToolsAsync(cancellationToken: cancellationToken)];
    }

    /// <summary>
    /// Starts the operator's server as a process for this attempt (it ends with the attempt). Checked
    /// again here: the operator may have withdrawn the server since the skill was saved.
    /// </summary>
    private ModelContextProtocol.Client.StdioClientTransport Stdio(string name, (string Id, string Name) workspace)
    {
        if (!stdioServers.Servers.TryGetValue(name, out var server) || !server.Allows(workspace.Id, workspace.Name))
        {
            throw new InvalidOperationException($"The operator no longer offers the stdio MCP server '{name}' to this workspace.");
        }

        var environment = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["PATH"] = System.Environment.GetEnvironmentVariable("PATH"),
            ["HOME"] = System.Environment.GetEnvironmentVariable("HOME"),
        };
        foreach (var (key, value) in server.Environment)
        {
            environment[key] = value;
        }

        return new ModelContextProtocol.Client.StdioClientTransport(new ModelContextProtocol.Client.StdioClientTransportOptions
        {
            Name = name,
            Command = server.Command!,
            Arguments = [.. server.Args],
            WorkingDirectory = server.WorkingDirectory,
            // Cadre's own secrets (database, keys) stay out of a tool's process.
            InheritEnvironmentVariables = false,
            EnvironmentVariables = environment,
        });
    }

    private ModelContextProtocol.Client.HttpClientTransport Http(Skill skill, string? authValue)
    {
        var options = new ModelContextProtocol.Client.HttpClientTransportOptions
        {
            Endpoint = new Uri((string)JsonNode.Parse(skill.Config)!["url"]!),
            TransportMode = ModelContextProtocol.Client.HttpTransportMode.StreamableHttp,
            Name = skill.Name,
            // Tool calls are requests and answers; nothing needs the server's own stream.
            EnableStandaloneGetStream = false,
            AdditionalHeaders = skill.AuthHeader is { } header && authValue is not null ? new Dictionary<string, string> { [header] = authValue } : null,
        };
        return new ModelContextProtocol.Client.HttpClientTransport(options, outbound.Client, loggerFactory: null, ownsHttpClient: false);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }
    }
}
