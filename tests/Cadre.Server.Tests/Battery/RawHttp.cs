using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Cadre.Server.Tests.Battery;

/// <summary>
/// HTTP/1.1 written by hand on a socket, for what HttpClient will not do: keep writing a body the
/// server already refused (and read its answer meanwhile), send a body without end, or stop halfway.
/// </summary>
internal static class RawHttp
{
    private static readonly byte[] Filler = Encoding.ASCII.GetBytes(new string('a', 64 * 1024));

    /// <summary>What came back: the status and content type, if an answer's head arrived, and how much of the body was written before it.</summary>
    public sealed record Answer(int? Status, string? ContentType, long BytesSentBeforeAnswer, bool StoppedByServer, string? Error)
    {
        public override string ToString() =>
            $"{Status?.ToString(CultureInfo.InvariantCulture) ?? "no answer"} {ContentType} after {BytesSentBeforeAnswer / 1024} KiB{(Error is null ? "" : $" ({Error})")}";
    }

    public static async Task<TcpClient> ConnectAsync(Uri server, CancellationToken cancellationToken)
    {
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(server.Host, server.Port, cancellationToken);
        return client;
    }

    public static string Head(Uri server, string method, string target, IEnumerable<(string Name, string Value)> headers)
    {
        var head = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{method} {target} HTTP/1.1\r\nHost: {server.Authority}\r\n");
        foreach (var (name, value) in headers)
        {
            head.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }

        return head.Append("\r\n").ToString();
    }

    /// <summary>
    /// Sends <paramref name="prefix"/>, filler and <paramref name="suffix"/>: <paramref name="length"/> bytes in all with a
    /// Content-Length, or (<paramref name="length"/> null) chunked and without end, until the server answers or stops
    /// reading, or <paramref name="cap"/> bytes went out. The answer's head is read while the body is being written.
    /// </summary>
    public static async Task<Answer> SendLargeAsync(Uri server, string method, string target, IEnumerable<(string Name, string Value)> headers,
        string prefix, string suffix, long? length, long cap, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        using var client = await ConnectAsync(server, deadline.Token);
        var stream = client.GetStream();
        var allHeaders = headers.Append(length is { } n ? ("Content-Length", n.ToString(CultureInfo.InvariantCulture)) : ("Transfer-Encoding", "chunked"));
        await stream.WriteAsync(Encoding.ASCII.GetBytes(Head(server, method, target, allHeaders)), deadline.Token);

        using var answered = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
        var reading = ReadHeadAsync(stream, deadline.Token).ContinueWith(head =>
        {
            answered.Cancel();
            return head;
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        long sent = 0;
        var stoppedByServer = false;
        try
        {
            sent += await WriteAsync(stream, Encoding.ASCII.GetBytes(prefix), chunked: length is null, answered.Token);
            var total = length ?? cap;
            var end = Encoding.ASCII.GetBytes(suffix);
            while (sent < total)
            {
                var room = length is null ? total - sent : total - end.Length - sent;
                if (room <= 0)
                {
                    break;
                }

                sent += await WriteAsync(stream, Filler.AsMemory(0, (int)Math.Min(Filler.Length, room)), chunked: length is null, answered.Token);
            }

            // The whole body went out unrefused: end it, so the server answers what it made of it.
            if (length is null)
            {
                await stream.WriteAsync("0\r\n\r\n"u8.ToArray(), answered.Token);
            }
            else
            {
                sent += await WriteAsync(stream, end, chunked: false, answered.Token);
            }
        }
        catch (OperationCanceledException) when (!deadline.IsCancellationRequested)
        {
            // The answer arrived while the body was still going out.
        }
        catch (IOException)
        {
            // The server closed the connection (after answering, the read says).
            stoppedByServer = true;
        }

        var (status, contentType, error) = await reading.Unwrap();
        return new Answer(status, contentType, sent, stoppedByServer, error);
    }

    /// <summary>Reads an answer's status line and headers; a closed or reset connection before them is no answer.</summary>
    public static async Task<(int? Status, string? ContentType, string? Error)> ReadHeadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await stream.ReadAsync(buffer, cancellationToken);
                if (read == 0)
                {
                    return (null, null, "closed without an answer");
                }

                received.Write(buffer, 0, read);
                var text = Encoding.ASCII.GetString(received.GetBuffer(), 0, (int)received.Length);
                var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (end < 0)
                {
                    continue;
                }

                var lines = text[..end].Split("\r\n");
                var status = int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture);
                var contentType = lines.Skip(1)
                    .Where(line => line.StartsWith("Content-Type:", StringComparison.OrdinalIgnoreCase))
                    .Select(line => line["Content-Type:".Length..].Split(';')[0].Trim())
                    .FirstOrDefault();
                return (status, contentType, null);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            return (null, null, ex.Message);
        }
    }

    private static async Task<long> WriteAsync(Stream stream, ReadOnlyMemory<byte> data, bool chunked, CancellationToken cancellationToken)
    {
        if (data.Length == 0)
        {
            return 0;
        }

        if (chunked)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(data.Length.ToString("x", CultureInfo.InvariantCulture) + "\r\n"), cancellationToken);
        }

        await stream.WriteAsync(data, cancellationToken);
        if (chunked)
        {
            await stream.WriteAsync("\r\n"u8.ToArray(), cancellationToken);
        }

        return data.Length;
    }
}
