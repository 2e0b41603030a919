using Microsoft.Extensions.Options;

namespace Cadre.Server.Http;

/// <summary>Where people reach this server. Bound from the <c>Cadre</c> section (env <c>CADRE_PUBLIC_URL</c>).</summary>
public sealed class PublicUrlOptions
{
    public const string SectionName = "Cadre";

    /// <summary>
    /// The address links in mails and responses start with (invitations, password resets, setup),
    /// e.g. <c>https://cadre.example.com</c>. Default: the scheme and host of the request that made the link.
    /// </summary>
    public string? PublicUrl { get; set; }
}

internal static class PublicUrl
{
    public static string For(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var configured = request.HttpContext.RequestServices.GetRequiredService<IOptions<PublicUrlOptions>>().Value.PublicUrl;
        return string.IsNullOrWhiteSpace(configured)
            ? $"{request.Scheme}://{request.Host}{request.PathBase}"
            : configured.TrimEnd('/');
    }
}
