using System.Text.Json.Nodes;

namespace Cadre.Expressions;

/// <summary>
/// A Pratt parser from tokens to <see cref="ExprNode"/>s. Precedence, loosest first: <c>? :</c>,
/// <c>??</c>, <c>||</c>, <c>&amp;&amp;</c>, <c>== !=</c>, <c>&lt; &lt;= &gt; &gt;=</c>, <c>+ -</c>,
/// <c>* / %</c>, unary <c>! -</c>, then member access, indexing and calls.
/// </summary>
internal sealed class ExpressionParser
{
    public const int MaxDepth = 64;

    private readonly List<Token> _tokens;
    private readonly ExpressionOptions _options;
    private readonly List<string> _locals = [];
    private readonly HashSet<string> _roots = new(StringComparer.Ordinal);
    private int _next;
    private int _depth;

    private ExpressionParser(List<Token> tokens, ExpressionOptions options)
    {
        _tokens = tokens;
        _options = options;
    }

    /// <summary>Parses a whole expression; <paramref name="offset"/> shifts reported positions (for expressions inside a template).</summary>
    public static (ExprNode Root, IReadOnlySet<string> Roots, int Slots) Parse(string source, int offset, ExpressionOptions options)
    {
        if (source.Length > options.MaxLength)
        {
            throw new ExpressionSyntaxException($"An expression may have at most {options.MaxLength} characters", offset);
        }

        var parser = new ExpressionParser(ExpressionLexer.Tokenize(source, offset), options);
        if (parser.Peek.Kind == TokenKind.End)
        {
            throw new ExpressionSyntaxException("The expression is empty", offset);
        }

        var node = parser.ParseExpression(0);
        if (parser.Peek.Kind != TokenKind.End)
        {
            throw new ExpressionSyntaxException($"Unexpected '{parser.Peek.Text}'", parser.Peek.Position);
        }

        return (node, parser._roots, parser._maxSlots);
    }

    private int _maxSlots;

    private Token Peek => _tokens[_next];

    private Token Take() => _tokens[_next++];

    private bool TakeIf(string op)
    {
        if (Peek.Kind == TokenKind.Operator && Peek.Text == op)
        {
            _next++;
            return true;
        }

        return false;
    }

    private void Expect(string op)
    {
        if (!TakeIf(op))
        {
            throw new ExpressionSyntaxException(Peek.Kind == TokenKind.End ? $"Expected '{op}' but the expression ended" : $"Expected '{op}' but found '{Peek.Text}'", Peek.Position);
        }
    }

    private static int BindingPower(Token token) => token.Kind != TokenKind.Operator ? -1 : token.Text switch
    {
        "?" => 1,
        "??" => 2,
        "||" => 3,
        "&&" => 4,
        "==" or "!=" => 5,
        "<" or "<=" or ">" or ">=" => 6,
        "+" or "-" => 7,
        "*" or "/" or "%" => 8,
        _ => -1,
    };

    private ExprNode ParseExpression(int minPower)
    {
        if (++_depth > MaxDepth)
        {
            throw new ExpressionSyntaxException($"The expression is nested more than {MaxDepth} levels deep", Peek.Position);
        }

        var left = ParseUnary();
        while (BindingPower(Peek) is var power && power > minPower)
        {
            var op = Take();
            if (op.Text == "?")
            {
                // Right-associative: a ? b : c ? d : e reads as a ? b : (c ? d : e).
                var then = ParseExpression(0);
                Expect(":");
                var otherwise = ParseExpression(power - 1);
                left = new ConditionalNode(left, then, otherwise);
            }
            else
            {
                // ?? is right-associative; the others group to the left.
                var right = ParseExpression(op.Text == "??" ? power - 1 : power);
                left = new BinaryNode(op.Text, left, right, op.Position);
            }
        }

        _depth--;
        return left;
    }

    private ExprNode ParseUnary()
    {
        if (Peek.Kind == TokenKind.Operator && Peek.Text is "!" or "-")
        {
            var op = Take();
            if (++_depth > MaxDepth)
            {
                throw new ExpressionSyntaxException($"The expression is nested more than {MaxDepth} levels deep", op.Position);
            }

            var operand = ParseUnary();
            _depth--;
            return op.Text == "-" && operand is LiteralNode { Value: JsonValue value } && Values.TryNumber(value, out var number)
                ? new LiteralNode(Values.Number(-number))
                : new UnaryNode(op.Text, operand, op.Position);
        }

        return ParsePostfix(ParsePrimary());
    }

    private ExprNode ParsePostfix(ExprNode target)
    {
        while (true)
        {
            if (TakeIf("."))
            {
                var name = Take();
                if (name.Kind != TokenKind.Identifier)
                {
                    throw new ExpressionSyntaxException("Expected a name after '.'", name.Position);
                }

                target = new MemberNode(target, name.Text);
            }
            else if (Peek.Kind == TokenKind.Operator && Peek.Text == "[")
            {
                var open = Take();
                var key = ParseExpression(0);
                Expect("]");
                target = new IndexNode(target, key, open.Position);
            }
            else
            {
                return target;
            }
        }
    }

    private ExprNode ParsePrimary()
    {
        var token = Take();
        switch (token.Kind)
        {
            case TokenKind.Number:
                return new LiteralNode(Values.Number(token.Number));
            case TokenKind.String:
                CheckLiteralLength(token);
                return new LiteralNode(JsonValue.Create(token.Text));
            case TokenKind.Identifier:
                return ParseIdentifier(token);
            case TokenKind.Operator when token.Text == "(":
                var inner = ParseExpression(0);
                Expect(")");
                return inner;
            case TokenKind.Operator when token.Text == "[":
                return ParseArray();
            case TokenKind.Operator when token.Text == "{":
                return ParseObject();
            case TokenKind.End:
                throw new ExpressionSyntaxException("The expression ended where a value was expected", token.Position);
            default:
                throw new ExpressionSyntaxException($"Unexpected '{token.Text}'", token.Position);
        }
    }

    private void CheckLiteralLength(Token token)
    {
        if (token.Text.Length > _options.MaxStringLiteralLength)
        {
            throw new ExpressionSyntaxException($"A string literal may have at most {_options.MaxStringLiteralLength} characters", token.Position);
        }
    }

    private ExprNode ParseIdentifier(Token token)
    {
        switch (token.Text)
        {
            case "true":
                return new LiteralNode(JsonValue.Create(true));
            case "false":
                return new LiteralNode(JsonValue.Create(false));
            case "null":
                return new LiteralNode(null);
        }

        if (Peek.Kind == TokenKind.Operator && Peek.Text == "(")
        {
            return ParseCall(token);
        }

        var slot = _locals.LastIndexOf(token.Text);
        if (slot >= 0)
        {
            return new LocalNode(slot, token.Text);
        }

        if (_options.Roots is { } roots && !roots.Contains(token.Text))
        {
            throw new ExpressionSyntaxException(
                $"'{token.Text}' is not something an expression can read here; use one of: {string.Join(", ", roots.Order(StringComparer.Ordinal))}",
                token.Position);
        }

        _roots.Add(token.Text);
        return new RootNode(token.Text);
    }

    private CallNode ParseCall(Token name)
    {
        if (!ExpressionFunctions.All.TryGetValue(name.Text, out var function))
        {
            throw new ExpressionSyntaxException($"'{name.Text}' is not a function; the functions are {string.Join(", ", ExpressionFunctions.All.Keys.Order(StringComparer.Ordinal))}", name.Position);
        }

        Expect("(");
        var arguments = new List<ExprNode>();
        if (!TakeIf(")"))
        {
            do
            {
                arguments.Add(function.TakesLambda && arguments.Count == 1 ? ParseLambdaOrExpression() : ParseExpression(0));
            }
            while (TakeIf(","));

            Expect(")");
        }

        if (arguments.Count < function.MinArguments || arguments.Count > function.MaxArguments)
        {
            var expected = function.MinArguments == function.MaxArguments ? $"{function.MinArguments}" : $"{function.MinArguments} to {function.MaxArguments}";
            throw new ExpressionSyntaxException($"{name.Text}() takes {expected} arguments, not {arguments.Count}", name.Position);
        }

        return new CallNode(function, [.. arguments], name.Position);
    }

    private ExprNode ParseLambdaOrExpression()
    {
        if (Peek.Kind == TokenKind.Identifier && _tokens[_next + 1] is { Kind: TokenKind.Operator, Text: "=>" })
        {
            var parameter = Take();
            Take();
            _locals.Add(parameter.Text);
            _maxSlots = Math.Max(_maxSlots, _locals.Count);
            var body = ParseExpression(0);
            _locals.RemoveAt(_locals.Count - 1);
            return new LambdaNode(_locals.Count, parameter.Text, body);
        }

        return ParseExpression(0);
    }

    private ArrayNode ParseArray()
    {
        var items = new List<ExprNode>();
        if (!TakeIf("]"))
        {
            do
            {
                items.Add(ParseExpression(0));
            }
            while (TakeIf(","));

            Expect("]");
        }

        return new ArrayNode([.. items]);
    }

    private ObjectNode ParseObject()
    {
        var members = new List<(string, ExprNode)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (!TakeIf("}"))
        {
            do
            {
                var key = Take();
                if (key.Kind is not (TokenKind.Identifier or TokenKind.String))
                {
                    throw new ExpressionSyntaxException("Expected a member name (a name or a string)", key.Position);
                }

                if (!names.Add(key.Text))
                {
                    throw new ExpressionSyntaxException($"'{key.Text}' appears twice in one object", key.Position);
                }

                Expect(":");
                members.Add((key.Text, ParseExpression(0)));
            }
            while (TakeIf(","));

            Expect("}");
        }

        return new ObjectNode([.. members]);
    }
}
