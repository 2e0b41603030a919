using System.CommandLine;

namespace Cadre.Cli.Commands;

/// <summary>
/// <c>cadre completion bash|zsh|fish|pwsh</c>: a script that hooks <c>cadre</c> into the shell's completion.
/// Each asks <c>cadre</c> itself through System.CommandLine's <c>[suggest:N]</c> directive (what
/// <c>dotnet-suggest</c>'s scripts do, without needing that tool): the line typed so far and the cursor's
/// place in it go in, and the commands, options and values that fit come out, one per line.
/// </summary>
internal static class CompletionCommand
{
    private const string Bash = """
        # cadre completion for bash. Load it in ~/.bashrc:  source <(cadre completion bash)
        _cadre_complete()
        {
            local IFS=$'\n'
            local candidates
            candidates=$("${COMP_WORDS[0]}" "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null)
            COMPREPLY=($(compgen -W "${candidates}" -- "${COMP_WORDS[COMP_CWORD]}"))
        }
        complete -o default -F _cadre_complete cadre
        """;

    private const string Zsh = """
        #compdef cadre
        # cadre completion for zsh. Load it in ~/.zshrc, after compinit:  source <(cadre completion zsh)
        _cadre() {
            local -a candidates
            candidates=("${(@f)$("${words[1]}" "[suggest:${CURSOR}]" "${BUFFER}" 2>/dev/null)}")
            compadd -a candidates
        }
        compdef _cadre cadre
        """;

    private const string Fish = """
        # cadre completion for fish. Load it:  cadre completion fish > ~/.config/fish/completions/cadre.fish
        complete -c cadre -f -a '(cadre "[suggest:"(string length -- (commandline -cp))"]" (commandline -p) 2>/dev/null)'
        """;

    private const string PowerShell = """
        # cadre completion for PowerShell. Load it in $PROFILE:  cadre completion pwsh | Out-String | Invoke-Expression
        Register-ArgumentCompleter -Native -CommandName cadre -ScriptBlock {
            param($wordToComplete, $commandAst, $cursorPosition)
            $line = $commandAst.Extent.ToString()
            $position = $cursorPosition - $commandAst.Extent.StartOffset
            # After a trailing space the cursor is past the end of the command's text.
            if ($position -gt $line.Length) { $line = $line.PadRight($position) }
            & cadre "[suggest:$position]" $line.Replace('"', '\"') 2>$null | ForEach-Object {
                [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
            }
        }
        """;

    private static readonly Dictionary<string, string> Scripts = new(StringComparer.Ordinal)
    {
        ["bash"] = Bash,
        ["zsh"] = Zsh,
        ["fish"] = Fish,
        ["pwsh"] = PowerShell,
    };

    public static Command Create()
    {
        var shell = new Argument<string>("shell") { Description = "bash, zsh, fish or pwsh" };
        shell.AcceptOnlyFromAmong([.. Scripts.Keys]);
        var command = new Command("completion", "Print the shell script that completes cadre's commands and options: source <(cadre completion bash)") { shell };
        command.SetAction(parse =>
        {
            Console.Out.WriteLine(Scripts[parse.GetValue(shell)!]);
            return ExitCodes.Success;
        });
        return command;
    }
}
