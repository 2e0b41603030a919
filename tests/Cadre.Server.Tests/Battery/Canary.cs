using System.Net;
using System.Net.Sockets;

namespace Cadre.Server.Tests.Battery;

/// <summary>
/// Listeners on internal addresses that count every connection made to them: 127.0.0.2, 127.0.0.1 and ::1 on one
/// free port (the one the SSRF targets name), and, when asked, 127.0.0.2 on ports 80 and 443 if they are free
/// (targets that name no port). A guarded outbound path must never connect: <see cref="Connections"/> stays 0.
/// </summary>
internal sealed class Canary : IAsyncDisposable
{
    private readonly List<TcpListener> _listeners = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private int _connections;

    private Canary(int port) => Port = port;

    /// <summary>The port every address listens on.</summary>
    public int Port { get; }

    /// <summary>Where it listens, such as <c>127.0.0.2:41234</c>.</summary>
    public IReadOnlyList<string> Endpoints => [.. _listeners.Select(l => l.LocalEndpoint.ToString()!)];

    /// <summary>Connections accepted on any of its addresses.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Starts listening; <paramref name="defaultPorts"/> adds 127.0.0.2:80 and :443 (one canary at a time can hold them).</summary>
    public static Canary Start(bool defaultPorts = false)
    {
        for (var tries = 0; ; tries++)
        {
            var first = new TcpListener(IPAddress.Parse("127.0.0.2"), 0);
            first.Start();
            var canary = new Canary(((IPEndPoint)first.LocalEndpoint).Port);
            canary.Listen(first);
            // The same port on the other loopback addresses (names such as localhost resolve there); taken by
            // someone else, try another port.
            if (canary.TryListen(IPAddress.Loopback, canary.Port) && canary.TryListen(IPAddress.IPv6Loopback, canary.Port))
            {
                // Default ports, for URLs that name none: best effort (another process may hold them).
                if (defaultPorts)
                {
                    canary.TryListen(IPAddress.Parse("127.0.0.2"), 80);
                    canary.TryListen(IPAddress.Parse("127.0.0.2"), 443);
                }

                return canary;
            }

            canary.DisposeAsync().AsTask().GetAwaiter().GetResult();
            if (tries == 10)
            {
                throw new InvalidOperationException("No port free on 127.0.0.2, 127.0.0.1 and ::1 at once.");
            }
        }
    }

    private bool TryListen(IPAddress address, int port)
    {
        var listener = new TcpListener(address, port);
        try
        {
            listener.Start();
        }
        catch (SocketException)
        {
            listener.Dispose();
            return false;
        }

        Listen(listener);
        return true;
    }

    private void Listen(TcpListener listener)
    {
        _listeners.Add(listener);
        _loops.Add(Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    using var client = await listener.AcceptTcpClientAsync(_stop.Token);
                    Interlocked.Increment(ref _connections);
                }
                catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
                {
                    return;
                }
            }
        }));
    }

    /// <summary>Proves the canary hears: connects once to each of its addresses, waits until every one was counted, and starts the count again from 0.</summary>
    public async Task SelfTestAsync()
    {
        foreach (var listener in _listeners)
        {
            using var client = new TcpClient(listener.LocalEndpoint.AddressFamily);
            await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint);
        }

        await Eventually.HoldsAsync(() => Connections == _listeners.Count, $"the canary counting {_listeners.Count} test connections");
        Interlocked.Exchange(ref _connections, 0);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var listener in _listeners)
        {
            listener.Stop();
            listener.Dispose();
        }

        await Task.WhenAll(_loops);
        _stop.Dispose();
    }
}
