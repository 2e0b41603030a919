using System.Diagnostics;
using System.Text;

namespace Cadre.Cli.Tests.Infrastructure;

/// <summary>
/// A <c>cadre</c> process a test watches while it runs: its output is read as it comes (not only at the end), so a
/// test can see a stream arrive piece by piece, and interrupt the process as Ctrl+C would.
/// </summary>
public sealed class CliProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();
    private readonly Task _reading;

    private CliProcess(Process process)
    {
        _process = process;
        _reading = Task.WhenAll(ReadAsync(process.StandardOutput, _output), ReadAsync(process.StandardError, _error));
    }

    public string Output => Snapshot(_output);

    public string Error => Snapshot(_error);

    public static CliProcess Start(CadreInstance cadre, string? workspace, IEnumerable<string> arguments, IDictionary<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(cadre);
        var process = Process.Start(cadre.StartInfo(workspace, arguments, environment))!;
        process.StandardInput.Close();
        return new CliProcess(process);
    }

    /// <summary>Waits until standard output holds <paramref name="text"/>; fails at once if the process ends without it.</summary>
    public async Task WaitForOutputAsync(string text, int seconds = 60)
    {
        await Eventually.HoldsAsync(() => Output.Contains(text, StringComparison.Ordinal) || _process.HasExited, $"cadre printed '{text}'", seconds);
        if (!Output.Contains(text, StringComparison.Ordinal))
        {
            await _reading;
            Output.ShouldContain(text, Case.Sensitive, $"cadre exited {_process.ExitCode} without printing it.\nstderr:\n{Error}");
        }
    }

    /// <summary>Sends SIGINT, as Ctrl+C in a terminal does.</summary>
    public void Interrupt()
    {
        using var kill = Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public async Task<CliResult> WaitForExitAsync(int seconds = 90)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(seconds));
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"cadre did not exit.\nstdout:\n{Output}\nstderr:\n{Error}");
        }

        await _reading;
        return new CliResult(_process.ExitCode, Output, Error);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private static async Task ReadAsync(StreamReader reader, StringBuilder into)
    {
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            lock (into)
            {
                into.Append(buffer, 0, read);
            }
        }
    }

    private static string Snapshot(StringBuilder text)
    {
        lock (text)
        {
            return text.ToString();
        }
    }
}
