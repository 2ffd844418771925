// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.tpcc;

import dev.varve.Codec;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * TPC-C rows as small immutable records, one type per table: the value type of the table's named
 * map, or, in the single-map layout ({@link PrefixedStore}), one of the {@link Row}s of the shared
 * map. Money is in cents ({@code long}) so the consistency sums are exact; rates
 * (tax, discount) are in basis points; dates are epoch milliseconds, 0 standing for SQL NULL.
 * Columns no transaction reads (addresses, phone numbers) are folded into one {@code info} string
 * of the spec's length so rows keep a realistic size.
 */
final class TpccRows {
    private TpccRows() {}

    /** A row of any TPC-C table. */
    sealed interface Row
            permits Warehouse,
                    District,
                    Customer,
                    CustomerName,
                    History,
                    NewOrder,
                    Order,
                    OrderByCustomer,
                    OrderLine,
                    Item,
                    Stock {}

    record Warehouse(String name, String info, int taxBp, long ytd) implements Row {
        Warehouse withYtd(long newYtd) {
            return new Warehouse(name, info, taxBp, newYtd);
        }
    }

    record District(String name, String info, int taxBp, long ytd, long nextOrderId) implements Row {
        District withYtd(long newYtd) {
            return new District(name, info, taxBp, newYtd, nextOrderId);
        }

        District withNextOrderId(long next) {
            return new District(name, info, taxBp, ytd, next);
        }
    }

    record Customer(
            String first,
            String middle,
            String last,
            String info,
            long since,
            String credit,
            long creditLimit,
            int discountBp,
            long balance,
            long ytdPayment,
            int paymentCount,
            int deliveryCount,
            String data)
            implements Row {
        Customer afterPayment(long amount, String newData) {
            return new Customer(
                    first,
                    middle,
                    last,
                    info,
                    since,
                    credit,
                    creditLimit,
                    discountBp,
                    balance - amount,
                    ytdPayment + amount,
                    paymentCount + 1,
                    deliveryCount,
                    newData);
        }

        Customer afterDelivery(long amount) {
            return new Customer(
                    first,
                    middle,
                    last,
                    info,
                    since,
                    credit,
                    creditLimit,
                    discountBp,
                    balance + amount,
                    ytdPayment,
                    paymentCount,
                    deliveryCount + 1,
                    data);
        }
    }

    /** The by-last-name index entry: the key holds (w, d, last name, c_id), the value c_first. */
    record CustomerName(String first) implements Row {}

    record History(
            int customer,
            int customerDistrict,
            int customerWarehouse,
            int district,
            int warehouse,
            long date,
            long amount,
            String data)
            implements Row {}

    /** A NEW-ORDER row: all its columns are in its key. */
    record NewOrder() implements Row {
        static final NewOrder INSTANCE = new NewOrder();
    }

    record Order(int customer, long entryDate, int carrierId, int lineCount, boolean allLocal) implements Row {
        Order withCarrier(int carrier) {
            return new Order(customer, entryDate, carrier, lineCount, allLocal);
        }
    }

    /** The orders-by-customer index entry: all in the key. */
    record OrderByCustomer() implements Row {
        static final OrderByCustomer INSTANCE = new OrderByCustomer();
    }

    record OrderLine(int item, int supplyWarehouse, long deliveryDate, int quantity, long amount, String distInfo)
            implements Row {
        OrderLine delivered(long date) {
            return new OrderLine(item, supplyWarehouse, date, quantity, amount, distInfo);
        }
    }

    record Item(int imageId, String name, long price, String data) implements Row {}

    /** A STOCK row; {@code dists} holds S_DIST_01..10, 24 characters each, concatenated. */
    record Stock(int quantity, long ytd, int orderCount, int remoteCount, String dists, String data) implements Row {
        String dist(int district) {
            return dists.substring((district - 1) * 24, district * 24);
        }
    }

    /**
     * Encodes rows for the write-ahead log of the single-map layout: a tag byte, then the fields in
     * order.
     */
    static final Codec<Row> CODEC = Codec.of(TpccRows::encode, TpccRows::decode);

    static byte[] encode(Row row) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            if (row instanceof Warehouse r) {
                out.writeByte(1);
                out.writeUTF(r.name);
                out.writeUTF(r.info);
                out.writeInt(r.taxBp);
                out.writeLong(r.ytd);
            } else if (row instanceof District r) {
                out.writeByte(2);
                out.writeUTF(r.name);
                out.writeUTF(r.info);
                out.writeInt(r.taxBp);
                out.writeLong(r.ytd);
                out.writeLong(r.nextOrderId);
            } else if (row instanceof Customer r) {
                out.writeByte(3);
                out.writeUTF(r.first);
                out.writeUTF(r.middle);
                out.writeUTF(r.last);
                out.writeUTF(r.info);
                out.writeLong(r.since);
                out.writeUTF(r.credit);
                out.writeLong(r.creditLimit);
                out.writeInt(r.discountBp);
                out.writeLong(r.balance);
                out.writeLong(r.ytdPayment);
                out.writeInt(r.paymentCount);
                out.writeInt(r.deliveryCount);
                out.writeUTF(r.data);
            } else if (row instanceof CustomerName r) {
                out.writeByte(4);
                out.writeUTF(r.first);
            } else if (row instanceof History r) {
                out.writeByte(5);
                out.writeInt(r.customer);
                out.writeInt(r.customerDistrict);
                out.writeInt(r.customerWarehouse);
                out.writeInt(r.district);
                out.writeInt(r.warehouse);
                out.writeLong(r.date);
                out.writeLong(r.amount);
                out.writeUTF(r.data);
            } else if (row instanceof NewOrder) {
                out.writeByte(6);
            } else if (row instanceof Order r) {
                out.writeByte(7);
                out.writeInt(r.customer);
                out.writeLong(r.entryDate);
                out.writeInt(r.carrierId);
                out.writeInt(r.lineCount);
                out.writeBoolean(r.allLocal);
            } else if (row instanceof OrderByCustomer) {
                out.writeByte(8);
            } else if (row instanceof OrderLine r) {
                out.writeByte(9);
                out.writeInt(r.item);
                out.writeInt(r.supplyWarehouse);
                out.writeLong(r.deliveryDate);
                out.writeInt(r.quantity);
                out.writeLong(r.amount);
                out.writeUTF(r.distInfo);
            } else if (row instanceof Item r) {
                out.writeByte(10);
                out.writeInt(r.imageId);
                out.writeUTF(r.name);
                out.writeLong(r.price);
                out.writeUTF(r.data);
            } else if (row instanceof Stock r) {
                out.writeByte(11);
                out.writeInt(r.quantity);
                out.writeLong(r.ytd);
                out.writeInt(r.orderCount);
                out.writeInt(r.remoteCount);
                out.writeUTF(r.dists);
                out.writeUTF(r.data);
            } else {
                throw new IllegalArgumentException("not a TPC-C row: " + row);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static Row decode(byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(bytes))) {
            int tag = in.readByte();
            switch (tag) {
                case 1:
                    return new Warehouse(in.readUTF(), in.readUTF(), in.readInt(), in.readLong());
                case 2:
                    return new District(in.readUTF(), in.readUTF(), in.readInt(), in.readLong(), in.readLong());
                case 3:
                    return new Customer(
                            in.readUTF(),
                            in.readUTF(),
                            in.readUTF(),
                            in.readUTF(),
                            in.readLong(),
                            in.readUTF(),
                            in.readLong(),
                            in.readInt(),
                            in.readLong(),
                            in.readLong(),
                            in.readInt(),
                            in.readInt(),
                            in.readUTF());
                case 4:
                    return new CustomerName(in.readUTF());
                case 5:
                    return new History(
                            in.readInt(),
                            in.readInt(),
                            in.readInt(),
                            in.readInt(),
                            in.readInt(),
                            in.readLong(),
                            in.readLong(),
                            in.readUTF());
                case 6:
                    return NewOrder.INSTANCE;
                case 7:
                    return new Order(in.readInt(), in.readLong(), in.readInt(), in.readInt(), in.readBoolean());
                case 8:
                    return OrderByCustomer.INSTANCE;
                case 9:
                    return new OrderLine(
                            in.readInt(), in.readInt(), in.readLong(), in.readInt(), in.readLong(), in.readUTF());
                case 10:
                    return new Item(in.readInt(), in.readUTF(), in.readLong(), in.readUTF());
                case 11:
                    return new Stock(
                            in.readInt(), in.readLong(), in.readInt(), in.readInt(), in.readUTF(), in.readUTF());
                default:
                    throw new IllegalArgumentException("not a TPC-C row tag: " + tag);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
