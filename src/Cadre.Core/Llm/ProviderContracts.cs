namespace Cadre.Llm;

/// <summary>Body of create, and of PATCH (fields present replace; the name and kind stay).</summary>
/// <param name="ApiKey">Write-only. Stored encrypted and never returned; on PATCH, an empty string removes it.</param>
/// <param name="Timeout">How long one attempt may wait for the provider to start answering, such as <c>60s</c> or <c>2m</c> (default 120s).</param>
/// <param name="MaxRetries">Further attempts after a 429, a 5xx or a dropped connection, honouring Retry-After: 0–10 (default 2).</param>
public sealed record ProviderRequest(
    string? Name = null, string? Kind = null, string? BaseUrl = null, string? ApiKey = null, string? DefaultModel = null, string? Timeout = null, int? MaxRetries = null);

/// <summary>A provider as the API answers it. The key itself never leaves the server.</summary>
/// <param name="Id">Null for an instance provider (configured by the operator, read-only here).</param>
/// <param name="Scope"><c>workspace</c> or <c>instance</c>.</param>
/// <param name="ApiKeyHint">The key's last four characters, when a key is set.</param>
public sealed record ProviderResponse(
    string? Id, string Name, string Kind, string Scope, string? BaseUrl, bool ApiKeySet, string? ApiKeyHint, string? DefaultModel, string Timeout, int MaxRetries,
    int Version, Common.Actor? CreatedBy, Common.Actor? UpdatedBy, DateTime? CreatedAt, DateTime? UpdatedAt);

/// <summary>Body of PUT …/prices/{model}: US dollars per million tokens, at most six decimals, 0–10 000.</summary>
/// <param name="CachedInput">For input tokens served from the provider's prompt cache (default: the input price).</param>
public sealed record PriceRequest(decimal? Input = null, decimal? Output = null, decimal? CachedInput = null);

/// <summary>Everything a model call needs to reach a provider, wherever it was configured.</summary>
/// <param name="Trusted">Configured by the operator (environment, settings): may reach private addresses without the outbound allow-list.</param>
internal sealed record ResolvedProvider(
    string Name, string Kind, Uri? BaseUrl, string? ApiKey, string? DefaultModel, TimeSpan Timeout, int MaxRetries, bool Trusted)
{
    /// <summary>The text with this provider's key blanked out: a provider's error message may quote the key it was sent.</summary>
    public string WithoutKey(string text) =>
        string.IsNullOrEmpty(ApiKey) ? text : text.Replace(ApiKey, "[provider key]", StringComparison.Ordinal);
}

/// <summary>Body of POST …/providers/{provider}/test: the model to ask (default: the provider's default model).</summary>
public sealed record ProviderTestRequest(string? Model = null);

/// <summary>How a test call went: whether the provider answered, how fast, and if not, why (its own words, never the key).</summary>
public sealed record ProviderTestResponse(bool Ok, string Model, double LatencyMs, string? Answer, string? Error);
