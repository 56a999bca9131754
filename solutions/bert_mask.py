"""BERT's masked-language-model input corruption (15%; 80/10/10): the reference, its
statistical checker and typical mistakes."""

import torch

from studycli.assertions import assert_equal, call, expect, expect_pair, fails_with, hinted


def mask_tokens(
    tokens,
    vocab_size: int,
    mask_id: int,
    generator,
    mask_prob: float = 0.15,
):
    """Corrupt a batch of token ids for
    masked language modelling, as BERT does.

    Each position is chosen independently with probability mask_prob. A
    chosen position gets mask_id with probability 0.8, a token drawn
    uniformly from [0, vocab_size) with probability 0.1, and keeps its
    token with probability 0.1. Positions not chosen are left as they are.

    Args:
        tokens: integer tensor of any shape (for example
            (batch, seq_len)); not modified.
        vocab_size: number of token ids; random replacements are uniform
            over [0, vocab_size).
        mask_id: the id of the [MASK] token.
        generator: a torch.Generator; draw every random number from it
            (reproducibility).
        mask_prob: probability that a position is chosen for prediction.

    Returns:
        (inputs, labels), two new integer tensors of the shape of tokens:
        inputs is the corrupted sequence; labels holds the original token
        where the position was chosen and -100 (ignored by the
        cross-entropy) everywhere else.
    """
    device = tokens.device
    shape = tokens.shape
    chosen = torch.rand(shape, generator=generator, device=device) < mask_prob
    labels = torch.where(chosen, tokens, torch.full_like(tokens, -100))

    action = torch.rand(shape, generator=generator, device=device)
    to_mask = chosen & (action < 0.8)
    to_random = chosen & (action >= 0.8) & (action < 0.9)  # the last 10% stay unchanged
    random_tokens = torch.randint(
        0, vocab_size, shape, generator=generator, device=device, dtype=tokens.dtype
    )

    inputs = tokens.clone()
    inputs[to_mask] = mask_id
    inputs[to_random] = random_tokens[to_random]
    return inputs, labels


KEEP_DTYPE_HINT = (
    "tokens need not be int64: draw the random tokens in their dtype, "
    "torch.randint(0, vocab_size, ..., dtype=tokens.dtype), before writing them into the copy"
)
RANGE_MESSAGE = "random replacements must lie in [0, vocab_size)"
KEPT_BY_DRAW_HINT = (
    "the random token is drawn uniformly from all of [0, vocab_size), the original token "
    "included: with vocab_size=5 a chosen token stays unchanged with probability "
    "0.1 + 0.1/5 = 0.12, not 0.1; do not force the random token to differ from the original"
)
INTEGER_HINT = (
    "token ids are integers: an embedding looks up integer inputs, and cross-entropy reads "
    "float labels as class probabilities; torch.ones(shape) * -100 is float32, "
    "torch.full_like(tokens, -100) keeps the tokens' integer dtype"
)
ROWS_HINT = (
    "draw one number per position, torch.rand(tokens.shape, ...), not one per column "
    "(torch.rand(tokens.shape[-1])) broadcast over the batch: every sequence would then be "
    "corrupted at the same positions"
)
UNIFORM_HINT = (
    "draw the random token uniformly from [0, vocab_size): torch.randint(0, vocab_size, ...) "
    "includes 0 and excludes vocab_size"
)


def _run(impl, what, tokens, vocab_size, mask_id, seed, device, mask_prob=None, hint=""):
    """Call the answer and check the pair's form; `hint` is added to an exception it raises."""
    gen = torch.Generator(device=device).manual_seed(seed)
    keep = tokens.clone()
    kwargs = {} if mask_prob is None else {"mask_prob": mask_prob}
    with hinted(hint):
        out = call(impl, what, tokens, vocab_size, mask_id, gen, **kwargs)
    inputs, labels = expect_pair(out, ("inputs", "labels"), what, tensors=True)
    for name, value in (("inputs", inputs), ("labels", labels)):
        expect(
            not (value.is_floating_point() or value.is_complex() or value.dtype == torch.bool),
            what,
            f"returned {name} as {str(value.dtype)[6:]}, expected an integer tensor of token ids",
            hint=INTEGER_HINT,
        )
    expect(
        tuple(inputs.shape) == tuple(tokens.shape) and tuple(labels.shape) == tuple(tokens.shape),
        what,
        f"returned shapes {tuple(inputs.shape)} and {tuple(labels.shape)}, "
        f"expected {tuple(tokens.shape)} for both",
    )
    expect(
        torch.equal(tokens, keep),
        what,
        "modified the tokens passed in",
        hint="clone the tokens before writing [MASK] into them: the caller still needs the originals",
    )
    return inputs.long(), labels.long()


def _near(value, target, tol, what, name, hint=""):
    expect(
        abs(value - target) <= tol,
        what,
        f"{name} is {value:.4f}, expected {target:.4f} (+- {tol:.3f})",
        hint=hint,
    )


def check_mask_tokens(impl, device="cpu"):
    gen = torch.Generator().manual_seed(0)
    vocab, mask_id = 1000, 3
    # Original tokens never equal mask_id, so "became [MASK]" is unambiguous.
    tokens = torch.randint(5, vocab, (64, 512), generator=gen).to(device)
    what = "mask_tokens(tokens of shape (64, 512), vocab_size=1000, mask_id=3, generator seeded 0)"
    inputs, labels = _run(impl, what, tokens, vocab, mask_id, 0, device)

    chosen = labels != -100
    frac = chosen.float().mean().item()
    _near(
        frac,
        0.15,
        0.01,
        what,
        "the fraction of positions chosen (labels != -100)",
        hint="choose each position with probability mask_prob; labels are -100 where not chosen",
    )
    assert_equal(
        labels[chosen],
        tokens[chosen],
        what + ": labels at the chosen positions",
        hint="labels hold the ORIGINAL token, not the corrupted input",
    )
    assert_equal(
        inputs[~chosen],
        tokens[~chosen],
        what + ": inputs at the positions not chosen",
        hint="only chosen positions are corrupted",
    )

    expect(
        not bool((chosen == chosen[0]).all()),
        what,
        "every sequence of the batch has its chosen positions (labels != -100) in the same "
        "columns, where independent choices differ from row to row",
        hint=ROWS_HINT,
    )

    picked = chosen.sum().item()
    became_mask = (inputs[chosen] == mask_id).float().sum().item() / picked
    unchanged = (inputs[chosen] == tokens[chosen]).float().sum().item() / picked
    replaced = 1.0 - became_mask - unchanged
    _near(
        became_mask,
        0.8,
        0.03,
        what,
        "among chosen positions, the fraction set to mask_id",
        hint="80% of the chosen positions become mask_id",
    )
    _near(
        replaced,
        0.1,
        0.025,
        what,
        "among chosen positions, the fraction replaced by a random token",
        hint="of the 20% not masked, half get a random token: that is probability 0.5 among the rest, "
        "not 0.1",
    )
    _near(
        unchanged,
        0.1,
        0.025,
        what,
        "among chosen positions, the fraction left unchanged",
        hint="10% of the chosen positions keep their token (but still have a label)",
    )

    rand_vals = inputs[chosen & (inputs != mask_id) & (inputs != tokens)]
    expect(bool(((rand_vals >= 0) & (rand_vals < vocab)).all()), what, RANGE_MESSAGE)
    low = (rand_vals < 5).float().mean().item() if rand_vals.numel() else 0.0
    # tokens are drawn from [5, 1000); uniform replacements hit [0, 5) about 0.5% of the time and
    # their mean is about vocab/2.
    mean = rand_vals.float().mean().item()
    _near(
        mean / vocab,
        0.5,
        0.07,
        what,
        "the mean of the random replacement tokens / vocab_size",
        hint="draw the random token uniformly from [0, vocab_size)",
    )
    expect(low < 0.05, what, f"{low:.3f} of the random replacements fall in [0, 5)")

    # Chosen positions are spread evenly, not clustered at the start of each sequence.
    first, second = chosen[:, :256].float().mean().item(), chosen[:, 256:].float().mean().item()
    _near(
        first - second,
        0.0,
        0.02,
        what,
        "the chosen fraction in the first half minus that in the second half",
    )

    # Independent choices: the number chosen varies from call to call (binomial, std 5 of 200
    # positions here); a fixed count per call or per row does not.
    small_tokens = tokens[:4, :50].contiguous()
    counts = set()
    for seed in range(20):
        small_what = f"mask_tokens(tokens of shape (4, 50), generator seeded {seed})"
        _, small_labels = _run(impl, small_what, small_tokens, vocab, mask_id, seed, device)
        counts.add(int((small_labels != -100).sum()))
    expect(
        len(counts) >= 3,
        "mask_tokens(tokens of shape (4, 50)) with generators seeded 0 .. 19",
        f"chose {' or '.join(map(str, sorted(counts)))} positions every time, where independent "
        "choices with probability 0.15 give 30 +- 5, a different number from call to call",
        hint="choose each position independently, torch.rand(shape) < mask_prob, not a fixed "
        "number of positions (torch.randperm(n)[:k])",
    )

    # Every random number comes from the generator: same seed, same result.
    torch.manual_seed(1234)
    again = _run(
        impl, what + " (called again with a generator seeded 0)", tokens, vocab, mask_id, 0, device
    )
    torch.manual_seed(4321)
    assert_equal(
        again[0],
        inputs,
        what + " called twice with the same seed: inputs",
        hint="pass generator=generator to every torch.rand / torch.randint / torch.bernoulli",
    )
    assert_equal(again[1], labels, what + " called twice with the same seed: labels")
    other = _run(impl, what.replace("seeded 0", "seeded 1"), tokens, vocab, mask_id, 1, device)
    expect(not torch.equal(other[1], labels), what, "gives the same labels with seeds 0 and 1")

    # mask_prob is honoured, including 0 and 1; a 1-D input works.
    seq = torch.randint(5, 50, (8000,), generator=gen).to(device)
    for p in (0.0, 0.3, 1.0):
        what = f"mask_tokens(tokens of shape (8000,), vocab_size=50, mask_id=0, mask_prob={p})"
        inputs, labels = _run(impl, what, seq, 50, 0, 7, device, mask_prob=p)
        frac = (labels != -100).float().mean().item()
        _near(frac, p, 0.03, what, "the fraction of positions chosen")
        if p == 0.0:
            assert_equal(inputs, seq, what + ": inputs")
        if p == 1.0:
            assert_equal(labels, seq, what + ": labels")
            _near(
                (inputs == 0).float().mean().item(),
                0.8 + 0.1 / 50,
                0.03,
                what,
                "the fraction set to mask_id",
            )

    # int32 tokens (any integer dtype is allowed): random tokens drawn as int64 cannot be
    # written into their copy.
    tokens32 = torch.randint(5, 1000, (4, 256), generator=gen, dtype=torch.int32).to(device)
    what = (
        "mask_tokens(int32 tokens of shape (4, 256), vocab_size=1000, mask_id=3, mask_prob=1.0, "
        "generator seeded 3)"
    )
    inputs, labels = _run(
        impl, what, tokens32, 1000, 3, 3, device, mask_prob=1.0, hint=KEEP_DTYPE_HINT
    )
    assert_equal(labels, tokens32.long(), what + ": labels")
    # Each position picks its action on its own: the 4 rows of a column all agree on [MASK]
    # or not with probability 0.8^4 + 0.2^4 = 0.41, in about 105 of the 256 columns (std 8).
    masked = inputs == 3
    agree = int((masked == masked[0]).all(dim=0).sum())
    expect(
        agree < 180,
        what,
        f"in {agree} of the 256 columns every sequence of the batch has [MASK] or every one "
        "has not, where independent choices per position agree in about 105: the choice among "
        "mask, random and unchanged is made per position, not per column",
        hint=ROWS_HINT,
    )

    # A vocabulary of 5 ids: among thousands of random replacements, every id appears and none
    # lies outside [0, 5). The tokens alternate 1, 3 and mask_id is 2, so a replacement shows
    # wherever it differs from both the token and mask_id (0 and 4, both ends of the range,
    # everywhere; 1 and 3 on the other token); each id is expected thousands of times, and so
    # is an id out of range that a wrong draw makes (-1 from randint(-1, vocab_size) about
    # 1,700 times). Only mask_id itself cannot be told from a mask.
    vocab, mask_id = 5, 2
    small = torch.tensor([1, 3], device=device).repeat(50000)
    what = (
        "mask_tokens(tokens 1, 3, 1, 3, ... of shape (100000,), vocab_size=5, mask_id=2, "
        "mask_prob=1.0, generator seeded 5)"
    )
    inputs, labels = _run(impl, what, small, vocab, mask_id, 5, device, mask_prob=1.0)
    shown = inputs[(inputs != small) & (inputs != mask_id)]
    outside = sorted(set(shown[(shown < 0) | (shown >= vocab)].tolist()))
    expect(
        not outside,
        what,
        f"{RANGE_MESSAGE}; the random replacements include {outside}",
        hint=UNIFORM_HINT,
    )
    drawn = set(shown.tolist())
    missing = [i for i in range(vocab) if i != mask_id and i not in drawn]
    expect(
        not missing,
        what,
        f"no random replacement drew id {', '.join(map(str, missing))}, though each id of "
        f"[0, vocab_size) is expected thousands of times",
        hint=UNIFORM_HINT,
    )
    # The random draw may give back the original token: it is kept with probability
    # 0.1 + 0.1 / 5 = 0.12, where a draw forced to differ keeps it with probability 0.10. Over
    # 100,000 chosen positions the fraction's standard deviation is about 0.001, so the
    # tolerance 0.01 lies about 10 of them from 0.12 and from 0.10 alike.
    _near(
        (inputs == small).float().mean().item(),
        0.1 + 0.1 / vocab,
        0.01,
        what,
        "the fraction of chosen positions left unchanged",
        hint=KEPT_BY_DRAW_HINT,
    )
    # Uniform over all of [0, vocab_size): each id shows where it differs from the token, about
    # 100,000 * 0.1 / 5 = 2,000 times for 0 and 4 and 1,000 for 1 and 3 (std about 45). A draw
    # that avoids mask_id (redrawn, or moved to another id) shows one id about twice as often.
    counts = {i: int((shown == i).sum()) for i in range(vocab) if i != mask_id}
    expected = {i: float((small != i).sum()) * 0.1 / vocab for i in counts}
    skewed = [i for i in counts if not 0.8 <= counts[i] / expected[i] <= 1.25]
    expect(
        not skewed,
        what,
        "the random replacements are not uniform over [0, vocab_size): "
        + ", ".join(
            f"id {i} drawn {counts[i]} times, expected about {expected[i]:.0f}" for i in skewed
        ),
        hint=UNIFORM_HINT + "; every id is drawn, mask_id and the original token included",
    )


# --- wrong answers ----------------------------------------------------------------------------


@fails_with("80% of the chosen positions become mask_id")
def _mask_all_chosen(tokens, vocab_size: int, mask_id: int, generator, mask_prob: float = 0.15):
    """Replaces every chosen position by mask_id (no 10% random, no 10% unchanged)."""
    chosen = torch.rand(tokens.shape, generator=generator, device=tokens.device) < mask_prob
    labels = torch.where(chosen, tokens, torch.full_like(tokens, -100))
    inputs = tokens.masked_fill(chosen, mask_id)
    return inputs, labels


@fails_with("labels are -100 where not chosen")
def _labels_everywhere(tokens, vocab_size: int, mask_id: int, generator, mask_prob: float = 0.15):
    """Labels on every position (the original tokens), not -100 where nothing was masked."""
    inputs, _ = mask_tokens(tokens, vocab_size, mask_id, generator, mask_prob)
    return inputs, tokens.clone()


@fails_with("half get a random token")
def _random_branch_prob_01(
    tokens, vocab_size: int, mask_id: int, generator, mask_prob: float = 0.15
):
    """Random branch drawn with probability 0.1 among the remaining 20%: 2% random, 18% kept."""
    shape, device = tokens.shape, tokens.device
    chosen = torch.rand(shape, generator=generator, device=device) < mask_prob
    labels = torch.where(chosen, tokens, torch.full_like(tokens, -100))
    to_mask = chosen & (torch.rand(shape, generator=generator, device=device) < 0.8)
    to_random = chosen & ~to_mask & (torch.rand(shape, generator=generator, device=device) < 0.1)
    inputs = tokens.clone()
    inputs[to_mask] = mask_id
    rnd = torch.randint(
        0, vocab_size, shape, generator=generator, device=device, dtype=tokens.dtype
    )
    inputs[to_random] = rnd[to_random]
    return inputs, labels


@fails_with("labels hold the ORIGINAL token")
def _labels_from_inputs(tokens, vocab_size: int, mask_id: int, generator, mask_prob: float = 0.15):
    """Labels copied from the corrupted inputs (mask_id, random tokens) instead of the originals."""
    inputs, labels = mask_tokens(tokens, vocab_size, mask_id, generator, mask_prob)
    return inputs, torch.where(labels != -100, inputs, labels)


@fails_with("modified the tokens passed in")
def _mutates_tokens(tokens, vocab_size: int, mask_id: int, generator, mask_prob: float = 0.15):
    """Writes the corruption into the caller's tokens tensor in place."""
    inputs, labels = mask_tokens(tokens, vocab_size, mask_id, generator, mask_prob)
    tokens.copy_(inputs)
    return tokens, labels


@fails_with("expected a pair (inputs, labels)")
def _inputs_only(tokens, vocab_size: int, mask_id: int, generator, mask_prob: float = 0.15):
    """Returns the corrupted inputs alone, without the labels the loss needs."""
    return mask_tokens(tokens, vocab_size, mask_id, generator, mask_prob)[0]


@fails_with("called twice with the same seed")
def _global_rng(tokens, vocab_size: int, mask_id: int, generator, mask_prob: float = 0.15):
    """Ignores the generator and draws from torch's global random state."""
    return mask_tokens(tokens, vocab_size, mask_id, None, mask_prob)


def _drawing(tokens, vocab_size, mask_id, generator, mask_prob, low=0, dtype=None, shift=False):
    """The reference with the random tokens drawn from [low, vocab_size) in `dtype` (by
    default the tokens'), or with `shift` the original token moved by such a draw (never the
    original): the wrong answers below each get one of them wrong."""
    device = tokens.device
    shape = tokens.shape
    chosen = torch.rand(shape, generator=generator, device=device) < mask_prob
    labels = torch.where(chosen, tokens, torch.full_like(tokens, -100))
    action = torch.rand(shape, generator=generator, device=device)
    to_mask = chosen & (action < 0.8)
    to_random = chosen & (action >= 0.8) & (action < 0.9)
    random_tokens = torch.randint(
        low, vocab_size, shape, generator=generator, device=device, dtype=dtype or tokens.dtype
    )
    if shift:
        random_tokens = (tokens + random_tokens) % vocab_size
    inputs = tokens.clone()
    inputs[to_mask] = mask_id
    inputs[to_random] = random_tokens[to_random]
    return inputs, labels


@fails_with("draw the random tokens in their dtype")
def _random_tokens_int64(tokens, vocab_size: int, mask_id: int, generator, mask_prob: float = 0.15):
    """Draws the random tokens as int64 whatever the tokens' dtype: with int32 tokens, writing
    them into the int32 copy raises."""
    return _drawing(tokens, vocab_size, mask_id, generator, mask_prob, dtype=torch.long)


@fails_with("no random replacement drew id 0")
def _random_from_one(tokens, vocab_size: int, mask_id: int, generator, mask_prob: float = 0.15):
    """Draws the random tokens from [1, vocab_size): id 0 is never drawn."""
    return _drawing(tokens, vocab_size, mask_id, generator, mask_prob, low=1)


@fails_with("no random replacement drew id 4")
def _random_to_vocab_minus_one(
    tokens, vocab_size: int, mask_id: int, generator, mask_prob: float = 0.15
):
    """Draws the random tokens with randint(0, vocab_size - 1), whose upper bound is already
    exclusive: the last id is never drawn."""
    return _drawing(tokens, vocab_size - 1, mask_id, generator, mask_prob)


@fails_with("must lie in [0, vocab_size)")
def _random_from_minus_one(
    tokens, vocab_size: int, mask_id: int, generator, mask_prob: float = 0.15
):
    """Draws the random tokens from [-1, vocab_size): the invalid id -1 among them."""
    return _drawing(tokens, vocab_size, mask_id, generator, mask_prob, low=-1)


@fails_with("do not force the random token to differ from the original")
def _random_never_original(
    tokens, vocab_size: int, mask_id: int, generator, mask_prob: float = 0.15
):
    """Draws the random token from the ids other than the original one, (tokens + randint(1,
    vocab_size)) % vocab_size: the token survives with probability 0.1, not 0.1 + 0.1/V."""
    return _drawing(tokens, vocab_size, mask_id, generator, mask_prob, low=1, shift=True)


@fails_with("not a fixed number of positions")
def _fixed_count(tokens, vocab_size: int, mask_id: int, generator, mask_prob: float = 0.15):
    """Chooses exactly round(mask_prob * n) positions by a random permutation: the right
    fraction, but the choices are not independent (the count never varies)."""
    n = tokens.numel()
    picked = torch.randperm(n, generator=generator, device=tokens.device)[: round(mask_prob * n)]
    chosen = torch.zeros(n, dtype=torch.bool, device=tokens.device)
    chosen[picked] = True
    chosen = chosen.reshape(tokens.shape)
    labels = torch.where(chosen, tokens, torch.full_like(tokens, -100))
    action = torch.rand(tokens.shape, generator=generator, device=tokens.device)
    random_tokens = torch.randint(
        0, vocab_size, tokens.shape, generator=generator, device=tokens.device, dtype=tokens.dtype
    )
    inputs = tokens.clone()
    inputs[chosen & (action < 0.8)] = mask_id
    to_random = chosen & (action >= 0.8) & (action < 0.9)
    inputs[to_random] = random_tokens[to_random]
    return inputs, labels


@fails_with("returned labels as float32, expected an integer tensor")
def _float_labels(tokens, vocab_size: int, mask_id: int, generator, mask_prob: float = 0.15):
    """Builds the labels as torch.ones(shape) * -100, a float32 tensor, and writes the chosen
    tokens into it: float labels, which cross-entropy reads as class probabilities."""
    inputs, labels = mask_tokens(tokens, vocab_size, mask_id, generator, mask_prob)
    return inputs, labels.float()


@fails_with("returned inputs as float32, expected an integer tensor")
def _float_inputs(tokens, vocab_size: int, mask_id: int, generator, mask_prob: float = 0.15):
    """Corrupts with torch.where(to_mask, float(mask_id), tokens.float()): float inputs, which
    an embedding cannot look up."""
    inputs, labels = mask_tokens(tokens, vocab_size, mask_id, generator, mask_prob)
    return inputs.float(), labels


def _per_column(tokens, vocab_size, mask_id, generator, mask_prob, choice, action):
    """The reference with the choice or the action drawn once per column (shape[-1] numbers
    broadcast over the batch) where `choice` or `action` is set."""
    shape, device = tokens.shape, tokens.device
    chosen_shape = shape[-1:] if choice else shape
    chosen = torch.rand(chosen_shape, generator=generator, device=device) < mask_prob
    chosen = chosen.expand(shape)
    labels = torch.where(chosen, tokens, torch.full_like(tokens, -100))
    action_shape = shape[-1:] if action else shape
    draw = torch.rand(action_shape, generator=generator, device=device).expand(shape)
    random_tokens = torch.randint(
        0, vocab_size, shape, generator=generator, device=device, dtype=tokens.dtype
    )
    inputs = tokens.clone()
    inputs[chosen & (draw < 0.8)] = mask_id
    to_random = chosen & (draw >= 0.8) & (draw < 0.9)
    inputs[to_random] = random_tokens[to_random]
    return inputs, labels


@fails_with("has its chosen positions (labels != -100) in the same columns")
def _chosen_per_column(tokens, vocab_size: int, mask_id: int, generator, mask_prob: float = 0.15):
    """Draws the choice once per column, torch.rand(tokens.shape[-1]) < mask_prob, broadcast
    over the batch: every sequence is masked at the same positions."""
    return _per_column(tokens, vocab_size, mask_id, generator, mask_prob, True, False)


@fails_with("the choice among mask, random and unchanged is made per position")
def _action_per_column(tokens, vocab_size: int, mask_id: int, generator, mask_prob: float = 0.15):
    """Draws the mask / random / unchanged action once per column, torch.rand(tokens.shape[-1]),
    broadcast over the batch: the actions of a column's chosen positions all agree."""
    return _per_column(tokens, vocab_size, mask_id, generator, mask_prob, False, True)


@fails_with("the random replacements are not uniform over [0, vocab_size)")
def _random_never_mask_id(
    tokens, vocab_size: int, mask_id: int, generator, mask_prob: float = 0.15
):
    """Moves a random token that came out as mask_id to the next id, so that the "random"
    branch never looks like a mask: mask_id is never drawn, its neighbour twice as often."""
    shape, device = tokens.shape, tokens.device
    chosen = torch.rand(shape, generator=generator, device=device) < mask_prob
    labels = torch.where(chosen, tokens, torch.full_like(tokens, -100))
    action = torch.rand(shape, generator=generator, device=device)
    random_tokens = torch.randint(
        0, vocab_size, shape, generator=generator, device=device, dtype=tokens.dtype
    )
    random_tokens[random_tokens == mask_id] = (mask_id + 1) % vocab_size
    inputs = tokens.clone()
    inputs[chosen & (action < 0.8)] = mask_id
    to_random = chosen & (action >= 0.8) & (action < 0.9)
    inputs[to_random] = random_tokens[to_random]
    return inputs, labels


# --- correct variants -------------------------------------------------------------------------


def _hf_style(tokens, vocab_size: int, mask_id: int, generator, mask_prob: float = 0.15):
    """Hugging Face's DataCollatorForLanguageModeling: nested Bernoulli draws (0.8, then 0.5)."""
    labels = tokens.clone()
    device = tokens.device
    prob = torch.full(tokens.shape, mask_prob, device=device)
    masked = torch.bernoulli(prob, generator=generator).bool()
    labels[~masked] = -100
    inputs = tokens.clone()
    replaced = (
        torch.bernoulli(torch.full(tokens.shape, 0.8, device=device), generator=generator).bool()
        & masked
    )
    inputs[replaced] = mask_id
    rnd = torch.bernoulli(torch.full(tokens.shape, 0.5, device=device), generator=generator).bool()
    rnd = rnd & masked & ~replaced
    words = torch.randint(
        vocab_size, tokens.shape, generator=generator, device=device, dtype=tokens.dtype
    )
    inputs[rnd] = words[rnd]
    return inputs, labels


WRONG_ANSWERS = {
    "mask_tokens": [
        _mask_all_chosen,
        _labels_everywhere,
        _random_branch_prob_01,
        _labels_from_inputs,
        _mutates_tokens,
        _global_rng,
        _random_tokens_int64,
        _random_from_one,
        _random_to_vocab_minus_one,
        _random_from_minus_one,
        _random_never_original,
        _fixed_count,
        _inputs_only,
        _float_labels,
        _float_inputs,
        _chosen_per_column,
        _action_per_column,
        _random_never_mask_id,
    ],
}

CORRECT_VARIANTS = {"mask_tokens": [_hf_style]}
