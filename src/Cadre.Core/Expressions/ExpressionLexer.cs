using System.Globalization;
using System.Text;

namespace Cadre.Expressions;

internal enum TokenKind
{
    Number,
    String,
    Identifier,
    Operator,
    End,
}

internal readonly record struct Token(TokenKind Kind, string Text, int Position, double Number = 0);

/// <summary>Splits expression source into tokens. Written by hand with the parser (see <see cref="Expression"/>).</summary>
internal static class ExpressionLexer
{
    public const int MaxNumberLength = 64;

    // Longest first, so "==" is not read as "=" "=".
    private static readonly string[] Operators =
    [
        "=>", "??", "||", "&&", "==", "!=", "<=", ">=",
        "(", ")", "[", "]", "{", "}", ",", ".", ":", "?", "<", ">", "+", "-", "*", "/", "%", "!",
    ];

    public static List<Token> Tokenize(string source, int offset)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (true)
        {
            while (i < source.Length && char.IsWhiteSpace(source[i]))
            {
                i++;
            }

            if (i >= source.Length)
            {
                tokens.Add(new Token(TokenKind.End, "", offset + i));
                return tokens;
            }

            var c = source[i];
            var start = i;
            if (char.IsAsciiDigit(c))
            {
                i = ReadNumber(source, i, offset, tokens);
            }
            else if (c is '\'' or '"')
            {
                i = ReadString(source, i, offset, tokens);
            }
            else if (char.IsAsciiLetter(c) || c is '_' or '$')
            {
                while (i < source.Length && (char.IsAsciiLetterOrDigit(source[i]) || source[i] is '_' or '$'))
                {
                    i++;
                }

                tokens.Add(new Token(TokenKind.Identifier, source[start..i], offset + start));
            }
            else
            {
                var op = Array.Find(Operators, o => string.CompareOrdinal(source, i, o, 0, o.Length) == 0)
                    ?? throw new ExpressionSyntaxException($"'{c}' is not part of the expression language", offset + i);
                tokens.Add(new Token(TokenKind.Operator, op, offset + i));
                i += op.Length;
            }
        }
    }

    private static int ReadNumber(string source, int i, int offset, List<Token> tokens)
    {
        var start = i;
        while (i < source.Length && char.IsAsciiDigit(source[i]))
        {
            i++;
        }

        if (i + 1 < source.Length && source[i] == '.' && char.IsAsciiDigit(source[i + 1]))
        {
            i++;
            while (i < source.Length && char.IsAsciiDigit(source[i]))
            {
                i++;
            }
        }

        if (i < source.Length && source[i] is 'e' or 'E')
        {
            var exponent = i + 1;
            if (exponent < source.Length && source[exponent] is '+' or '-')
            {
                exponent++;
            }

            if (exponent < source.Length && char.IsAsciiDigit(source[exponent]))
            {
                i = exponent;
                while (i < source.Length && char.IsAsciiDigit(source[i]))
                {
                    i++;
                }
            }
        }

        var text = source[start..i];
        if (text.Length > MaxNumberLength)
        {
            throw new ExpressionSyntaxException($"A number may have at most {MaxNumberLength} characters", offset + start);
        }

        var value = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (double.IsInfinity(value))
        {
            throw new ExpressionSyntaxException($"{text} is too large a number", offset + start);
        }

        tokens.Add(new Token(TokenKind.Number, text, offset + start, value));
        return i;
    }

    private static int ReadString(string source, int i, int offset, List<Token> tokens)
    {
        var quote = source[i];
        var start = i++;
        var text = new StringBuilder();
        while (true)
        {
            if (i >= source.Length)
            {
                throw new ExpressionSyntaxException("A string is not closed", offset + start);
            }

            var c = source[i++];
            if (c == quote)
            {
                tokens.Add(new Token(TokenKind.String, text.ToString(), offset + start));
                return i;
            }

            if (c != '\\')
            {
                text.Append(c);
                continue;
            }

            if (i >= source.Length)
            {
                throw new ExpressionSyntaxException("A string is not closed", offset + start);
            }

            var escape = source[i++];
            switch (escape)
            {
                case 'n': text.Append('\n'); break;
                case 't': text.Append('\t'); break;
                case 'r': text.Append('\r'); break;
                case '\\' or '\'' or '"' or '{' or '}': text.Append(escape); break;
                case 'u' when i + 4 <= source.Length && ushort.TryParse(source.AsSpan(i, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code):
                    text.Append((char)code);
                    i += 4;
                    break;
                default:
                    throw new ExpressionSyntaxException($"'\\{escape}' is not an escape; use \\n, \\t, \\r, \\\\, \\', \\\" or \\uXXXX", offset + i - 2);
            }
        }
    }
}
