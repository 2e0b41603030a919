namespace Cadre.Expressions;

/// <summary>An expression or template that cannot be read: what is wrong and where (0-based character offset).</summary>
public sealed class ExpressionSyntaxException(string message, int position)
    : Exception($"{message} (at character {position + 1})")
{
    /// <summary>The problem, without the position.</summary>
    public string Problem { get; } = message;

    /// <summary>0-based offset into the source where the problem was found.</summary>
    public int Position { get; } = position;
}

/// <summary>An expression that read well but could not be evaluated against these values (a type mismatch, division by zero, too much work).</summary>
public sealed class ExpressionEvaluationException(string message) : Exception(message);
