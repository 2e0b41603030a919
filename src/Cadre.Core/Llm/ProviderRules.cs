using System.Text.RegularExpressions;

namespace Cadre.Llm;

/// <summary>What a provider's settings may be, shared by the API and the instance settings.</summary>
internal static partial class ProviderRules
{
    public const int MaxRetries = 10;

    public static readonly TimeSpan MinTimeout = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(1);

    /// <summary>The wire formats Cadre speaks: OpenAI's (any compatible server), Anthropic's, and the built-in mock.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["openai", "anthropic", "mock"];

    /// <summary>Same rule as a persona's <c>model.provider</c>, which names a provider.</summary>
    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    public static partial Regex Name();

    /// <summary>Why <paramref name="url"/> cannot be a provider's base URL, or null.</summary>
    public static string? CheckBaseUrl(string url) =>
        url.Length > 2048 || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(uri.UserInfo)
        || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment)
            ? "must be an absolute http or https URL without credentials, query or fragment, such as https://api.openai.com/v1 or http://localhost:11434/v1."
            : null;

    /// <summary>The base URL with a trailing slash, so relative paths append to it.</summary>
    public static Uri BaseUri(string url) => new(url.EndsWith('/') ? url : url + "/");

    /// <summary>The last four characters of a key long enough that they give nothing away.</summary>
    public static string? Hint(string apiKey) => apiKey.Length >= 16 ? apiKey[^4..] : null;
}
