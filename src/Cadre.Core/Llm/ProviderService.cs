using System.Globalization;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Llm;

/// <summary>
/// A workspace's model providers (its own, over the instance's), and its price table. Keys are
/// encrypted at rest and leave this class only towards the provider itself.
/// </summary>
internal sealed class ProviderService(
    CadreDbContext db, StorageProvider storage, IdGenerator ids, TimeProvider time, ActorService actors, ISecretProtector secrets, InstanceProviders instance,
    ChatClients clients)
{
    /// <summary>
    /// Asks the provider for a one-word answer: whether the address, the key and the model work,
    /// and how long the answer took. A failure is the answer, not an error of this call.
    /// </summary>
    public async Task<ServiceResult<ProviderTestResponse>> TestAsync(string workspaceId, string name, ProviderTestRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var resolved = await ResolveAsync(workspaceId, name, cancellationToken);
        if (resolved.Value is not { } provider)
        {
            return resolved.Error!;
        }

        var model = string.IsNullOrWhiteSpace(request.Model) ? provider.DefaultModel : request.Model.Trim();
        if (model is null || model.Length > 200)
        {
            var errors = new ValidationErrors();
            errors.Add("model", $"Name a model (at most 200 characters): provider '{provider.Name}' has no defaultModel.");
            return ServiceError.Validation(errors);
        }

        using var client = clients.Create(provider, model, maxTokens: 16);
        var started = time.GetTimestamp();
        try
        {
            var answer = await client.GetResponseAsync(
                [new Microsoft.Extensions.AI.ChatMessage(Microsoft.Extensions.AI.ChatRole.User, "Reply with the single word OK.")],
                new Microsoft.Extensions.AI.ChatOptions { MaxOutputTokens = 16 }, cancellationToken);
            return new ProviderTestResponse(true, model, time.GetElapsedTime(started).TotalMilliseconds, answer.Text, null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new ProviderTestResponse(false, model, time.GetElapsedTime(started).TotalMilliseconds, null,
                Net.OutboundRefusedException.In(ex)?.Message ?? provider.WithoutKey(ex.Message));
        }
    }

    public async Task<ServiceResult<Page<ProviderResponse>>> ListAsync(string workspaceId, PageRequest page, CancellationToken cancellationToken)
    {
        var own = await db.ModelProviders.AsNoTracking().Where(p => p.WorkspaceId == workspaceId).ToListAsync(cancellationToken);
        var resolved = await actors.ResolveAsync(own.SelectMany(p => new[] { p.CreatedBy, p.UpdatedBy }), cancellationToken);
        // A workspace's own provider hides the instance's of the same name, as it does when a model is called.
        var all = own.Select(p => ToResponse(p, resolved))
            .Concat(instance.All.Values.Where(i => own.All(p => p.Name != i.Name)).Select(ToResponse))
            .OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
        return KeysetPagination.ToPage(all, p => p.Name, page);
    }

    public async Task<ProviderResponse?> GetAsync(string workspaceId, string nameOrId, CancellationToken cancellationToken)
    {
        if (await FindAsync(workspaceId, nameOrId, tracking: false, cancellationToken) is { } own)
        {
            return ToResponse(own, await actors.ResolveAsync([own.CreatedBy, own.UpdatedBy], cancellationToken));
        }

        return instance.All.TryGetValue(nameOrId, out var configured) ? ToResponse(configured) : null;
    }

    /// <summary>The provider a model call in the workspace reaches under <paramref name="name"/>, key decrypted.</summary>
    public async Task<ServiceResult<ResolvedProvider>> ResolveAsync(string workspaceId, string name, CancellationToken cancellationToken)
    {
        var own = await db.ModelProviders.AsNoTracking().FirstOrDefaultAsync(p => p.WorkspaceId == workspaceId && p.Name == name, cancellationToken);
        if (own is null)
        {
            return instance.All.TryGetValue(name, out var configured)
                ? configured
                : ServiceError.NotFound($"No provider named '{name}' is configured for this workspace or instance (see …/providers).");
        }

        string? apiKey = null;
        if (own.ApiKeyProtected is { } protectedKey && (apiKey = secrets.Unprotect(protectedKey)) is null)
        {
            return ServiceError.Conflict($"Provider '{name}''s API key cannot be decrypted (was the instance's key ring lost?). Set the key again.");
        }

        return new ResolvedProvider(own.Name, own.Kind, own.BaseUrl is null ? null : ProviderRules.BaseUri(own.BaseUrl), apiKey, own.DefaultModel,
            TimeSpan.FromSeconds(own.TimeoutSeconds), own.MaxRetries, Trusted: false);
    }

    public async Task<ServiceResult<ProviderResponse>> CreateAsync(string workspaceId, ProviderRequest request, Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var errors = new ValidationErrors();
        if (request.Name is not { } name || !ProviderRules.Name().IsMatch(name))
        {
            errors.Add("name", "Is required: at most 64 lowercase letters, digits, dots, dashes or underscores, such as openai or my-ollama.");
        }

        if (request.Kind is not { } kind || !ProviderRules.Kinds.Contains(kind))
        {
            errors.Add("kind", $"Is required: one of {string.Join(", ", ProviderRules.Kinds)}.");
        }

        var (timeout, maxRetries) = Validate(request, errors);
        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        var now = time.GetUtcNowTruncated();
        var provider = new ModelProvider
        {
            Id = ids.NewId(ModelProvider.IdPrefix),
            WorkspaceId = workspaceId,
            Name = request.Name!,
            Kind = request.Kind!,
            BaseUrl = Blank(request.BaseUrl),
            DefaultModel = Blank(request.DefaultModel),
            TimeoutSeconds = (int)(timeout ?? InstanceProviders.DefaultTimeout).TotalSeconds,
            MaxRetries = maxRetries ?? InstanceProviders.DefaultMaxRetries,
            Version = 1,
            CreatedBy = caller.ActorId,
            UpdatedBy = caller.ActorId,
            CreatedAt = now,
            UpdatedAt = now,
        };
        SetKey(provider, request.ApiKey);
        db.ModelProviders.Add(provider);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (storage.IsUniqueViolation(ex))
        {
            db.ChangeTracker.Clear();
            return ServiceError.Conflict($"A provider named '{request.Name}' already exists in this workspace.");
        }

        return ToResponse(provider, await actors.ResolveAsync([caller.ActorId], cancellationToken));
    }

    /// <summary>Changes what the request carries; the name and kind stay (personas name the provider).</summary>
    public async Task<ServiceResult<ProviderResponse>> UpdateAsync(
        string workspaceId, string nameOrId, ProviderRequest request, Caller caller, VersionPrecondition? precondition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var provider = await FindAsync(workspaceId, nameOrId, tracking: true, cancellationToken);
        if (provider is null)
        {
            return instance.All.ContainsKey(nameOrId)
                ? ServiceError.Conflict($"'{nameOrId}' is configured for the whole instance by its operator; create a workspace provider of the same name to use other settings here.")
                : NotFound(nameOrId);
        }

        if (precondition is not null && !precondition.IsMetBy(provider.Version))
        {
            return ServiceError.PreconditionFailed($"{precondition.Describe()}, but provider '{provider.Name}' is at version {provider.Version}.");
        }

        var errors = new ValidationErrors();
        if (request.Name is not null && request.Name != provider.Name)
        {
            errors.Add("name", "A provider keeps its name: personas and steps refer to it. Create another one instead.");
        }

        if (request.Kind is not null && request.Kind != provider.Kind)
        {
            errors.Add("kind", "A provider keeps its kind. Create another one instead.");
        }

        var (timeout, maxRetries) = Validate(request, errors);
        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        if (request.BaseUrl is not null)
        {
            provider.BaseUrl = Blank(request.BaseUrl);
        }

        if (request.DefaultModel is not null)
        {
            provider.DefaultModel = Blank(request.DefaultModel);
        }

        if (request.ApiKey is not null)
        {
            SetKey(provider, request.ApiKey);
        }

        provider.TimeoutSeconds = timeout is { } t ? (int)t.TotalSeconds : provider.TimeoutSeconds;
        provider.MaxRetries = maxRetries ?? provider.MaxRetries;
        provider.Version++;
        provider.UpdatedBy = caller.ActorId;
        provider.UpdatedAt = time.GetUtcNowTruncated();
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            return ServiceError.Conflict($"Provider '{provider.Name}' was changed by another request at the same time. Retry.");
        }

        return ToResponse(provider, await actors.ResolveAsync([provider.CreatedBy, provider.UpdatedBy], cancellationToken));
    }

    /// <summary>Deletes a workspace's own provider (its key with it). Calls naming it then reach the instance's provider of that name, if any.</summary>
    public async Task<ServiceResult<bool>> DeleteAsync(string workspaceId, string nameOrId, CancellationToken cancellationToken)
    {
        var provider = await FindAsync(workspaceId, nameOrId, tracking: false, cancellationToken);
        if (provider is null)
        {
            return instance.All.ContainsKey(nameOrId)
                ? ServiceError.Conflict($"'{nameOrId}' is configured for the whole instance by its operator and cannot be deleted here.")
                : NotFound(nameOrId);
        }

        await db.ModelProviders.Where(p => p.Id == provider.Id).ExecuteDeleteAsync(cancellationToken);
        return true;
    }

    public async Task<ServiceResult<ModelPrice>> SetPriceAsync(string workspaceId, string model, PriceRequest request, Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var errors = new ValidationErrors();
        if (string.IsNullOrWhiteSpace(model) || model.Length > 200 || model.Any(char.IsControl))
        {
            errors.Add("model", "Must be a model name of at most 200 characters.");
        }

        var input = Price(request.Input, "input", required: true, errors);
        var output = Price(request.Output, "output", required: true, errors);
        var cached = Price(request.CachedInput, "cachedInput", required: false, errors) ?? input;
        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        var now = time.GetUtcNowTruncated();
        var price = await db.ModelPrices.FirstOrDefaultAsync(p => p.WorkspaceId == workspaceId && p.Model == model, cancellationToken);
        if (price is null)
        {
            price = new ModelPriceOverride { WorkspaceId = workspaceId, Model = model };
            db.ModelPrices.Add(price);
        }

        price.InputMicrosPerMtok = input!.Value;
        price.OutputMicrosPerMtok = output!.Value;
        price.CachedInputMicrosPerMtok = cached!.Value;
        price.UpdatedBy = caller.ActorId;
        price.UpdatedAt = now;
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (storage.IsUniqueViolation(ex))
        {
            db.ChangeTracker.Clear();
            return ServiceError.Conflict($"The price of '{model}' was set by another request at the same time. Retry.");
        }

        return PriceTable.FromOverride(price);
    }

    /// <summary>Removes the workspace's own price; the built-in one (if any) applies again.</summary>
    public async Task<ServiceResult<bool>> DeletePriceAsync(string workspaceId, string model, CancellationToken cancellationToken)
    {
        var deleted = await db.ModelPrices.Where(p => p.WorkspaceId == workspaceId && p.Model == model).ExecuteDeleteAsync(cancellationToken);
        return deleted > 0 ? true : ServiceError.NotFound($"This workspace has no price of its own for '{model}'.");
    }

    private static long? Price(decimal? value, string field, bool required, ValidationErrors errors)
    {
        if (value is null)
        {
            if (required)
            {
                errors.Add(field, "Is required: US dollars per million tokens.");
            }

            return null;
        }

        var micros = Money.MicrosPerMtok(value.Value);
        if (micros is null)
        {
            errors.Add(field, $"Must be US dollars per million tokens, 0 to {ModelPrice.MaxUsdPerMtok}, with at most six decimals.");
        }

        return micros;
    }

    private static (TimeSpan? Timeout, int? MaxRetries) Validate(ProviderRequest request, ValidationErrors errors)
    {
        if (Blank(request.BaseUrl) is { } url && ProviderRules.CheckBaseUrl(url) is { } problem)
        {
            errors.Add("baseUrl", char.ToUpperInvariant(problem[0]) + problem[1..]);
        }

        if (request.ApiKey is { Length: > 4096 } || request.ApiKey?.Any(char.IsControl) == true)
        {
            errors.Add("apiKey", "Must be at most 4096 characters, without control characters.");
        }

        if (request.DefaultModel is { } model && (model.Length > 200 || model.Any(char.IsControl)))
        {
            errors.Add("defaultModel", "Must be a model name of at most 200 characters.");
        }

        TimeSpan? timeout = null;
        if (request.Timeout is { } text)
        {
            if (!Durations.TryParse(text, out var parsed) || parsed < ProviderRules.MinTimeout || parsed > ProviderRules.MaxTimeout)
            {
                errors.Add("timeout", $"Must be {Durations.Rule}, between 1 second and 1 hour.");
            }
            else
            {
                timeout = parsed;
            }
        }

        if (request.MaxRetries is < 0 or > ProviderRules.MaxRetries)
        {
            errors.Add("maxRetries", $"Must be between 0 and {ProviderRules.MaxRetries}.");
        }

        return (timeout, request.MaxRetries);
    }

    private void SetKey(ModelProvider provider, string? apiKey)
    {
        var key = Blank(apiKey);
        provider.ApiKeyProtected = key is null ? null : secrets.Protect(key);
        provider.ApiKeyHint = key is null ? null : ProviderRules.Hint(key);
    }

    private Task<ModelProvider?> FindAsync(string workspaceId, string nameOrId, bool tracking, CancellationToken cancellationToken)
    {
        var providers = tracking ? db.ModelProviders : db.ModelProviders.AsNoTracking();
        return providers.FirstOrDefaultAsync(p => p.WorkspaceId == workspaceId && (p.Id == nameOrId || p.Name == nameOrId), cancellationToken);
    }

    private static ProviderResponse ToResponse(ModelProvider provider, IReadOnlyDictionary<string, Actor> resolved) =>
        new(provider.Id, provider.Name, provider.Kind, "workspace", provider.BaseUrl, provider.ApiKeyProtected is not null, provider.ApiKeyHint, provider.DefaultModel,
            Seconds(provider.TimeoutSeconds), provider.MaxRetries, provider.Version, resolved.Find(provider.CreatedBy), resolved.Find(provider.UpdatedBy),
            provider.CreatedAt, provider.UpdatedAt);

    private static ProviderResponse ToResponse(ResolvedProvider provider) =>
        new(null, provider.Name, provider.Kind, "instance", provider.BaseUrl?.ToString(), provider.ApiKey is not null, provider.ApiKey is { } key ? ProviderRules.Hint(key) : null,
            provider.DefaultModel, Seconds((int)provider.Timeout.TotalSeconds), provider.MaxRetries, 1, null, null, null, null);

    private static string Seconds(int seconds) => seconds.ToString(CultureInfo.InvariantCulture) + "s";

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static ServiceError NotFound(string nameOrId) => ServiceError.NotFound($"Provider '{nameOrId}' not found.");
}
