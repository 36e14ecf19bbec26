// Scanned by relay-compiler only (see ../../relay-check); never run.
const graphql = String.raw;

export const customersQuery = graphql`
  query RelayCheckCustomersQuery {
    customers(first: 10) {
      edges {
        node {
          id
          ...RelayCheckCustomer_customer
        }
      }
    }
  }
`;

export const customerFragment = graphql`
  fragment RelayCheckCustomer_customer on Customer
  @refetchable(queryName: "RelayCheckCustomerRefetchQuery")
  @argumentDefinitions(
    count: { type: "Int", defaultValue: 5 }
    cursor: { type: "String" }
  ) {
    id
    rowId
    name
    phone
    bookings(first: $count, after: $cursor)
      @connection(key: "RelayCheckCustomer_bookings") {
      edges {
        node {
          id
          status
          appointmentDate
        }
      }
    }
  }
`;
