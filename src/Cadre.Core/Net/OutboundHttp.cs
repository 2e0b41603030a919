using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Cadre.Net;

/// <summary>Where Cadre may send HTTP on its users' behalf (http annotators now; the http activity and webhooks later). Section <c>Cadre:Outbound</c>.</summary>
public sealed class OutboundOptions
{
    public const string SectionName = "Cadre:Outbound";

    /// <summary>
    /// Allow loopback, private (RFC 1918, unique-local), link-local, CGNAT and cloud metadata
    /// addresses. Off by default: a definition must not be able to reach the server's own network.
    /// </summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Host names allowed even when they resolve to such addresses (an internal API you trust).</summary>
    public IList<string> AllowedHosts { get; } = [];

    /// <summary>Longest wait for a whole request, unless a call asks for less.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// The HttpClient for requests that definitions make. Addresses are checked where the connection is
/// made (after DNS), so a public name that resolves to a private address, or a redirect to one, is
/// refused too, not only literal IPs in the URL.
/// </summary>
public sealed class OutboundHttp : IDisposable
{
    private readonly OutboundOptions _options;

    public OutboundHttp(IOptions<OutboundOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        var guarded = CreateHandler(guarded: true);
        guarded.AllowAutoRedirect = false;
        Client = new HttpClient(new CredentialSafeRedirects(guarded)) { Timeout = _options.Timeout };
        Client.DefaultRequestHeaders.UserAgent.ParseAdd("Cadre/1.0");
    }

    /// <summary>
    /// A handler of the same kind for clients that set their own timeouts (model providers). Unguarded
    /// only for destinations the operator configured, never for ones a workspace chose.
    /// </summary>
    public SocketsHttpHandler CreateHandler(bool guarded)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            AllowAutoRedirect = true,
            MaxAutomaticRedirections = 5,
            UseCookies = false,
        };
        if (guarded)
        {
            handler.ConnectCallback = ConnectAsync;
            // Through a proxy (HTTP_PROXY) the callback would connect to, and check, only the proxy's
            // address, never the destination a workspace chose: guarded requests go direct.
            handler.UseProxy = false;
        }

        return handler;
    }

    public HttpClient Client { get; }

    public void Dispose() => Client.Dispose();

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var trusted = _options.AllowPrivateNetworks || _options.AllowedHosts.Contains(host, StringComparer.OrdinalIgnoreCase);
        var allowed = trusted ? addresses : addresses.Where(a => !IsInternal(a)).ToArray();
        if (allowed.Length == 0)
        {
            throw new OutboundRefusedException(
                $"'{host}' resolves to a private, loopback, link-local or metadata address, which Cadre does not call unless Cadre:Outbound allows it.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Whether an address belongs to the server's own networks rather than the internet.</summary>
    public static bool IsInternal(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6 && EmbeddedIPv4(address.GetAddressBytes()) is { } embedded)
        {
            return IsInternal(embedded);
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal || address.IsIPv6Multicast
                || (bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0d && bytes[3] == 0xb8); // documentation range
        }

        var b = address.GetAddressBytes();
        return b[0] switch
        {
            0 or 10 or 127 => true,
            100 => b[1] is >= 64 and <= 127, // carrier-grade NAT
            169 => b[1] == 254, // link-local, including the 169.254.169.254 metadata service
            172 => b[1] is >= 16 and <= 31,
            192 => (b[1] == 168) || (b[1] == 0 && b[2] is 0 or 2), // private; IETF and documentation
            198 => b[1] is 18 or 19, // benchmarking
            >= 224 => true, // multicast and reserved
            _ => false,
        };
    }

    /// <summary>
    /// The IPv4 address inside IPv6 forms that reach it: IPv4-compatible <c>::a.b.c.d</c> (some stacks
    /// still route it), NAT64 <c>64:ff9b::a.b.c.d</c> and 6to4 <c>2002:aabb:ccdd::</c>.
    /// </summary>
    private static IPAddress? EmbeddedIPv4(byte[] bytes)
    {
        if (bytes.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0 || bytes is [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, ..])
        {
            return new IPAddress(bytes.AsSpan(12, 4));
        }

        return bytes is [0x20, 0x02, ..] ? new IPAddress(bytes.AsSpan(2, 4)) : null;
    }
}

/// <summary>
/// Follows redirects (at most 5) for the requests definitions make, instead of leaving it to
/// SocketsHttpHandler: that one drops only <c>Authorization</c> when a redirect leaves the origin and
/// re-sends every other header, so a secret in <c>X-Api-Key</c> would go wherever a redirect points.
/// Here a redirect to another origin (scheme, host or port) keeps only headers that carry no
/// credentials; https is never followed down to http. 301/302 turn a POST into a GET and 303 any
/// method, as browsers do; 307/308 re-send the method and body.
/// </summary>
internal sealed class CredentialSafeRedirects(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    public const int MaxRedirects = 5;

    /// <summary>Headers that go along to another origin.</summary>
    private static readonly HashSet<string> CrossOriginHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Accept", "Accept-Encoding", "Accept-Language", "User-Agent", "Idempotency-Key", "Cache-Control",
    };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        for (var hop = 0; hop < MaxRedirects && Next(request, response) is { } next; hop++)
        {
            response.Dispose();
            request = next;
            response = await base.SendAsync(request, cancellationToken);
        }

        return response;
    }

    private static HttpRequestMessage? Next(HttpRequestMessage request, HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        if (status is not (301 or 302 or 303 or 307 or 308) || response.Headers.Location is not { } location || request.RequestUri is not { } from)
        {
            return null;
        }

        var to = location.IsAbsoluteUri ? location : new Uri(from, location);
        if (to.Scheme is not ("http" or "https") || (from.Scheme == "https" && to.Scheme == "http"))
        {
            return null;
        }

        var keepsMethod = status is 307 or 308 || (status is 301 or 302 && request.Method != HttpMethod.Post);
        var next = new HttpRequestMessage(status == 303 || !keepsMethod ? HttpMethod.Get : request.Method, to) { Version = request.Version };
        var sameOrigin = Uri.Compare(from, to, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;
        foreach (var (name, values) in request.Headers)
        {
            if (sameOrigin || CrossOriginHeaders.Contains(name))
            {
                next.Headers.TryAddWithoutValidation(name, values);
            }
        }

        if (keepsMethod && status is 307 or 308 && request.Content is { } content)
        {
            // Buffered contents (the ones Cadre sends) can be sent again.
            next.Content = content;
        }

        return next;
    }
}

/// <summary>A request Cadre refused to send: it would reach an internal address.</summary>
public sealed class OutboundRefusedException(string message) : Exception(message)
{
    /// <summary>The refusal behind <paramref name="exception"/>, however deep the clients (the model SDKs) wrapped it; null when it is none.</summary>
    public static OutboundRefusedException? In(Exception? exception)
    {
        for (var inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is OutboundRefusedException refused)
            {
                return refused;
            }
        }

        return null;
    }
}
