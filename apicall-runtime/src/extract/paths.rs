//! The tries extraction walks: the generator's `static` [`PathNode`] and the [`ResponsePaths`]
//! built at run time from paths known only then (`apicall run`).

/// A trie of one call's response paths, emitted by the generator as a `static`.
#[derive(Debug)]
pub struct PathNode {
    /// Output slots whose path ends here: the value at this node is captured into each.
    pub slots: &'static [usize],
    /// Object members to descend into.
    pub keys: &'static [(&'static str, PathNode)],
    /// Array elements to descend into.
    pub indexes: &'static [(usize, PathNode)],
    /// Array elements to descend into, counted from the end: 1 is the last (`[-1]`).
    pub from_end: &'static [(usize, PathNode)],
}

/// What the walk needs of a path trie: the generator's `static` [`PathNode`] and the
/// [`ResponsePaths`] built at run time are walked by the same code.
pub(crate) trait Trie: Sized {
    /// How a member's key is held.
    type Key: AsRef<str>;

    fn slots(&self) -> &[usize];
    fn keys(&self) -> &[(Self::Key, Self)];
    fn indexes(&self) -> &[(usize, Self)];
    fn indexes_from_end(&self) -> &[(usize, Self)];

    fn key(&self, key: &str) -> Option<&Self> {
        self.keys()
            .iter()
            .find(|(name, _)| name.as_ref() == key)
            .map(|(_, node)| node)
    }

    fn index(&self, index: usize) -> Option<&Self> {
        self.indexes()
            .iter()
            .find(|(wanted, _)| *wanted == index)
            .map(|(_, node)| node)
    }

    fn has_children(&self) -> bool {
        !self.keys().is_empty() || !self.indexes().is_empty() || !self.indexes_from_end().is_empty()
    }
}

impl Trie for PathNode {
    type Key = &'static str;

    fn slots(&self) -> &[usize] {
        self.slots
    }

    fn keys(&self) -> &[(Self::Key, Self)] {
        self.keys
    }

    fn indexes(&self) -> &[(usize, Self)] {
        self.indexes
    }

    fn indexes_from_end(&self) -> &[(usize, Self)] {
        self.from_end
    }
}

/// One step of a response path: an object member or an array element.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PathStep {
    /// The member with this key.
    Key(String),
    /// The element at this index, from 0.
    Index(usize),
    /// The element this far from the end: 1 is the last (`[-1]`).
    FromEnd(usize),
}

/// Response paths known only at run time (the command line reads them from a calls.yaml),
/// walked exactly as generated code walks its `static` trie. Slot `i` is the `i`th path given.
#[derive(Debug, Default)]
pub struct ResponsePaths {
    root: OwnedNode,
    count: usize,
}

#[derive(Debug, Default)]
struct OwnedNode {
    slots: Vec<usize>,
    keys: Vec<(String, OwnedNode)>,
    indexes: Vec<(usize, OwnedNode)>,
    from_end: Vec<(usize, OwnedNode)>,
}

impl ResponsePaths {
    /// The trie's root, for the walk.
    pub(super) fn root(&self) -> &impl Trie {
        &self.root
    }

    /// The trie of `paths`, in order.
    #[must_use]
    pub fn new<'p>(paths: impl IntoIterator<Item = &'p [PathStep]>) -> Self {
        let mut root = OwnedNode::default();
        let mut count = 0;
        for (slot, path) in paths.into_iter().enumerate() {
            let mut node = &mut root;
            for step in path {
                node = match step {
                    PathStep::Key(key) => child(&mut node.keys, key.as_str(), str::to_owned),
                    PathStep::Index(index) => child(&mut node.indexes, index, |i| *i),
                    PathStep::FromEnd(back) => child(&mut node.from_end, back, |i| *i),
                };
            }
            node.slots.push(slot);
            count = slot + 1;
        }
        Self { root, count }
    }

    /// How many paths (and so slots) there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// The child of `children` under `label`, added when missing.
fn child<'n, L, Q: PartialEq<L> + ?Sized>(
    children: &'n mut Vec<(L, OwnedNode)>,
    label: &Q,
    owned: impl Fn(&Q) -> L,
) -> &'n mut OwnedNode {
    let position = match children.iter().position(|(existing, _)| label == existing) {
        Some(position) => position,
        None => {
            children.push((owned(label), OwnedNode::default()));
            children.len() - 1
        }
    };
    &mut children[position].1
}

impl Trie for OwnedNode {
    type Key = String;

    fn slots(&self) -> &[usize] {
        &self.slots
    }

    fn keys(&self) -> &[(Self::Key, Self)] {
        &self.keys
    }

    fn indexes(&self) -> &[(usize, Self)] {
        &self.indexes
    }

    fn indexes_from_end(&self) -> &[(usize, Self)] {
        &self.from_end
    }
}
