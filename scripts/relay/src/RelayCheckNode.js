// Scanned by relay-compiler only (see ../../relay-check); never run.
const graphql = String.raw;

export const nodeQuery = graphql`
  query RelayCheckNodeQuery($id: ID!, $ids: [ID!]!) {
    node(id: $id) {
      id
      ... on Customer {
        name
      }
    }
    nodes(ids: $ids) {
      id
    }
  }
`;
