using System.Text;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cadre.Cli.Runs;

/// <summary>How a line of a run's transcript reads: its colour on a terminal.</summary>
internal enum Tone
{
    Plain,
    Dim,
    Good,
    Bad,
    Warn,
}

/// <summary>A step that is under way, for the live step list.</summary>
/// <param name="Since">When it got to <paramref name="State"/>, as a <see cref="TimeProvider"/> timestamp.</param>
internal sealed record ActiveStep(string Id, string State, long Since, string? Detail = null);

/// <summary>
/// Where a followed run is shown. Whole lines, the text a model streams (as it arrives), and the steps
/// under way, which only a live display on a terminal draws.
/// </summary>
internal interface IRunDisplay
{
    void Line(string text, Tone tone = Tone.Plain);

    /// <summary>Streamed text (a model's tokens), shown as it comes, on lines of its own.</summary>
    void Text(string text);

    /// <summary>The streamed text is complete: what follows starts on a new line.</summary>
    void EndText();

    void Active(IReadOnlyCollection<ActiveStep> steps);
}

internal static class RunDisplays
{
    /// <summary>
    /// Runs <paramref name="body"/> with a display on <paramref name="writer"/>: a Spectre live display
    /// when it is a terminal (the steps under way redrawn below the transcript), plain lines otherwise.
    /// </summary>
    public static async Task<T> WithAsync<T>(TextWriter writer, bool terminal, TimeProvider time, Func<IRunDisplay, Task<T>> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (!terminal)
        {
            return await body(new PlainRunDisplay(writer));
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.Detect,
            ColorSystem = ColorSystemSupport.Detect,
        });
        return await console.Live(new Text("")).AutoClear(true).Overflow(VerticalOverflow.Ellipsis).StartAsync(async context =>
        {
            using var display = new LiveRunDisplay(console, context, time);
            return await body(display);
        });
    }
}

/// <summary>Plain lines for a pipe or a file (and the tests): tokens written and flushed as they arrive.</summary>
internal sealed class PlainRunDisplay(TextWriter writer) : IRunDisplay
{
    private bool _atLineStart = true;

    public void Line(string text, Tone tone = Tone.Plain)
    {
        EndText();
        writer.WriteLine(text);
        writer.Flush();
    }

    public void Text(string text)
    {
        if (text.Length == 0)
        {
            return;
        }

        writer.Write(text);
        writer.Flush();
        _atLineStart = text[^1] == '\n';
    }

    public void EndText()
    {
        if (!_atLineStart)
        {
            writer.WriteLine();
            writer.Flush();
            _atLineStart = true;
        }
    }

    public void Active(IReadOnlyCollection<ActiveStep> steps)
    {
        // Plain output has no place to redraw: the lines say when steps start and end.
    }
}

/// <summary>
/// A terminal: finished lines scroll above a live region that shows the line a model is still writing
/// and a spinner for each step under way, redrawn ten times a second.
/// </summary>
internal sealed class LiveRunDisplay : IRunDisplay, IDisposable
{
    private static readonly string[] Frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

    private readonly IAnsiConsole _console;
    private readonly LiveDisplayContext _context;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly StringBuilder _partial = new();
    private readonly ITimer _timer;
    private IReadOnlyCollection<ActiveStep> _active = [];
    private bool _disposed;

    public LiveRunDisplay(IAnsiConsole console, LiveDisplayContext context, TimeProvider time)
    {
        _console = console;
        _context = context;
        _time = time;
        _timer = time.CreateTimer(_ => Tick(), null, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100));
    }

    public void Line(string text, Tone tone = Tone.Plain)
    {
        lock (_lock)
        {
            CommitPartial();
            WriteLine(text, tone);
            Redraw();
        }
    }

    public void Text(string text)
    {
        lock (_lock)
        {
            _partial.Append(text);
            // Whole lines go above the live region; what is left (the line being written) stays in it.
            var width = Math.Max(20, _console.Profile.Width - 1);
            while (true)
            {
                var current = _partial.ToString();
                var newline = current.IndexOf('\n', StringComparison.Ordinal);
                if (newline >= 0 && newline <= width)
                {
                    WriteLine(current[..newline].TrimEnd('\r'), Tone.Plain);
                    _partial.Remove(0, newline + 1);
                }
                else if (current.Length > width)
                {
                    var space = current.LastIndexOf(' ', width);
                    var cut = space > 0 ? space : width;
                    WriteLine(current[..cut], Tone.Plain);
                    _partial.Remove(0, space > 0 ? cut + 1 : cut);
                }
                else
                {
                    break;
                }
            }

            Redraw();
        }
    }

    public void EndText()
    {
        lock (_lock)
        {
            CommitPartial();
            Redraw();
        }
    }

    public void Active(IReadOnlyCollection<ActiveStep> steps)
    {
        lock (_lock)
        {
            _active = steps;
            Redraw();
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        lock (_lock)
        {
            CommitPartial();
            _disposed = true;
        }
    }

    /// <summary>The spinners turn and the times count up even when no event comes.</summary>
    private void Tick()
    {
        lock (_lock)
        {
            if (!_disposed)
            {
                Redraw();
            }
        }
    }

    private void CommitPartial()
    {
        if (_partial.Length > 0)
        {
            WriteLine(_partial.ToString(), Tone.Plain);
            _partial.Clear();
        }
    }

    private void WriteLine(string text, Tone tone)
    {
        var style = tone switch
        {
            Tone.Dim => "grey",
            Tone.Good => "green",
            Tone.Bad => "red",
            Tone.Warn => "yellow",
            _ => null,
        };
        _console.MarkupLine(style is null ? Markup.Escape(text) : $"[{style}]{Markup.Escape(text)}[/]");
    }

    /// <summary>Draws the live region again; the caller holds the lock.</summary>
    private void Redraw()
    {
        var rows = new List<IRenderable>();
        if (_partial.Length > 0)
        {
            rows.Add(new Text(_partial.ToString()));
        }

        var frame = Frames[(int)(_time.GetTimestamp() * 10 / _time.TimestampFrequency % Frames.Length)];
        foreach (var step in _active)
        {
            var elapsed = RunText.Duration(_time.GetElapsedTime(step.Since));
            var marker = step.State == "waiting" ? "⏸" : frame;
            rows.Add(new Markup($"[blue]{marker}[/] {Markup.Escape(step.Id)} [grey]{Markup.Escape(step.State)} {elapsed}" +
                (step.Detail is null ? "" : $" · {Markup.Escape(step.Detail)}") + "[/]"));
        }

        _context.UpdateTarget(rows.Count == 0 ? new Text("") : new Rows(rows));
    }
}
