using Cadre.Common;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Cadre.Llm;

/// <summary>One provider the operator configures for every workspace (section <c>Cadre:Providers:&lt;name&gt;</c>).</summary>
public sealed class InstanceProviderSettings
{
    /// <summary><c>openai</c>, <c>anthropic</c> or <c>mock</c>.</summary>
    public string? Kind { get; set; }

    public string? BaseUrl { get; set; }

    public string? ApiKey { get; set; }

    public string? DefaultModel { get; set; }

    /// <summary>Such as <c>120s</c>; see <see cref="ProviderRequest.Timeout"/>.</summary>
    public string? Timeout { get; set; }

    public int? MaxRetries { get; set; }
}

/// <summary>
/// Section <c>Cadre:Providers</c>: providers by name (<c>CADRE_PROVIDERS__OLLAMA__KIND=openai</c>,
/// <c>…__BASEURL=…</c>), and the conventional variables of the two big providers' own SDKs.
/// </summary>
public sealed class ProviderOptions
{
    public const string SectionName = "Cadre:Providers";

    public Dictionary<string, InstanceProviderSettings> Providers { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary><c>OPENAI_API_KEY</c>.</summary>
    public string? OpenAiApiKey { get; set; }

    /// <summary><c>OPENAI_BASE_URL</c>: any OpenAI-compatible server.</summary>
    public string? OpenAiBaseUrl { get; set; }

    /// <summary><c>ANTHROPIC_API_KEY</c>.</summary>
    public string? AnthropicApiKey { get; set; }

    /// <summary><c>ANTHROPIC_BASE_URL</c>.</summary>
    public string? AnthropicBaseUrl { get; set; }

    /// <summary>Reads the section and the variables.</summary>
    internal static void Bind(ProviderOptions options, IConfiguration configuration)
    {
        configuration.GetSection(SectionName).Bind(options.Providers);
        options.OpenAiApiKey = configuration["OPENAI_API_KEY"];
        options.OpenAiBaseUrl = configuration["OPENAI_BASE_URL"];
        options.AnthropicApiKey = configuration["ANTHROPIC_API_KEY"];
        options.AnthropicBaseUrl = configuration["ANTHROPIC_BASE_URL"];
    }
}

/// <summary>
/// The providers every workspace can use without configuring its own: <c>mock</c> always; <c>openai</c>
/// when <c>OPENAI_API_KEY</c> or <c>OPENAI_BASE_URL</c> is set; <c>anthropic</c> when
/// <c>ANTHROPIC_API_KEY</c> is set (<c>ANTHROPIC_BASE_URL</c> optional); and each entry of
/// <c>Cadre:Providers</c>, which wins over those. A workspace's own provider of the same name wins over
/// all of them. The operator set these up, so they may reach private addresses (a local Ollama).
/// </summary>
internal sealed class InstanceProviders
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(120);
    public const int DefaultMaxRetries = 2;

    public InstanceProviders(IOptions<ProviderOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Value;
        var all = new Dictionary<string, ResolvedProvider>(StringComparer.Ordinal)
        {
            ["mock"] = new("mock", "mock", null, null, "echo", DefaultTimeout, 0, Trusted: true),
        };
        if (Blank(settings.OpenAiApiKey) is not null || Blank(settings.OpenAiBaseUrl) is not null)
        {
            all["openai"] = new("openai", "openai", Url(settings.OpenAiBaseUrl), Blank(settings.OpenAiApiKey), null, DefaultTimeout, DefaultMaxRetries, Trusted: true);
        }

        if (Blank(settings.AnthropicApiKey) is { } anthropicKey)
        {
            all["anthropic"] = new("anthropic", "anthropic", Url(settings.AnthropicBaseUrl), anthropicKey, null, DefaultTimeout, DefaultMaxRetries, Trusted: true);
        }

        foreach (var (name, provider) in settings.Providers)
        {
            var key = name.ToLowerInvariant();
            all[key] = new(key, provider.Kind!.ToLowerInvariant(), Url(provider.BaseUrl), Blank(provider.ApiKey), Blank(provider.DefaultModel),
                Durations.TryParse(provider.Timeout, out var timeout) ? timeout : DefaultTimeout, provider.MaxRetries ?? DefaultMaxRetries, Trusted: true);
        }

        All = all;
    }

    public IReadOnlyDictionary<string, ResolvedProvider> All { get; }

    /// <summary>Problems with <c>Cadre:Providers</c>, for start-up validation: Cadre refuses to start rather than fail a run later.</summary>
    internal static IEnumerable<string> Problems(ProviderOptions options)
    {
        foreach (var (variable, url) in new[] { ("OPENAI_BASE_URL", options.OpenAiBaseUrl), ("ANTHROPIC_BASE_URL", options.AnthropicBaseUrl) })
        {
            if (Blank(url) is { } value && ProviderRules.CheckBaseUrl(value) is { } problem)
            {
                yield return $"{variable} {problem}";
            }
        }

        foreach (var (name, settings) in options.Providers)
        {
            var prefix = $"Cadre:Providers:{name}";
            if (!ProviderRules.Name().IsMatch(name.ToLowerInvariant()))
            {
                yield return $"{prefix}: the name must be at most 64 letters, digits, dots, dashes or underscores.";
            }

            if (settings.Kind?.ToLowerInvariant() is not { } kind || !ProviderRules.Kinds.Contains(kind))
            {
                yield return $"{prefix}:Kind must be one of {string.Join(", ", ProviderRules.Kinds)}.";
            }

            if (Blank(settings.BaseUrl) is { } url && ProviderRules.CheckBaseUrl(url) is { } problem)
            {
                yield return $"{prefix}:BaseUrl {problem}";
            }

            if (settings.Timeout is not null && (!Durations.TryParse(settings.Timeout, out var timeout) || timeout < ProviderRules.MinTimeout || timeout > ProviderRules.MaxTimeout))
            {
                yield return $"{prefix}:Timeout must be {Durations.Rule}, between 1 second and 1 hour.";
            }

            if (settings.MaxRetries is < 0 or > ProviderRules.MaxRetries)
            {
                yield return $"{prefix}:MaxRetries must be between 0 and {ProviderRules.MaxRetries}.";
            }
        }
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    // Checked at start-up (Problems), so a set value parses here.
    private static Uri? Url(string? value) => Blank(value) is { } url ? ProviderRules.BaseUri(url) : null;
}

/// <summary>Refuses to start with an instance provider that could only fail its runs later.</summary>
internal sealed class ProviderOptionsValidator : IValidateOptions<ProviderOptions>
{
    public ValidateOptionsResult Validate(string? name, ProviderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = InstanceProviders.Problems(options).ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
